// Malformed inventories: each test asserts the complete list of diagnostics, with exact
// FILE:LINE:COL, path and message, as `haup inventory check` prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeIO, inventory, problems } from './fixture.ts';

const expectProblems = async (text: string, expected: string[], options = {}) => assert.deepEqual(await problems(text, options), expected);

/** A second instance on line 18, in flow style; `extra` is appended inside the braces. */
const secondInstance = (fields: string) => `    - { ${fields} }\n  checks:`;
const VI_2 = 'name: VI_2, vrid: 51, interface: eth0, vips: [10.0.0.4/24], priorities: { lb5: 100, lb6: 150 }';

test('the base fixture is valid', async () => {
  await expectProblems(inventory(), []);
});

// --- YAML level ---------------------------------------------------------------------------

test('YAML syntax error is located', async () => {
  await expectProblems(inventory({ 15: '      vips: [10.0.0.3/24' }), [
    'inv.yml:16:7: YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
});

test('duplicate key points at the second occurrence', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      vrid: 51' }), [
    'inv.yml:15:7: duplicate key: this key is already defined in the same mapping',
  ]);
});

test('duplicate key and schema errors are reported together', async () => {
  await expectProblems(inventory({ 13: '      vrid: 0', 14: '      interface: eth0\n      interface: eth1' }), [
    'inv.yml:13:13: vrrp.instances[0].vrid: VRID must be 1..255, got the number 0',
    'inv.yml:15:7: duplicate key: this key is already defined in the same mapping',
  ]);
});

test('empty file', async () => {
  await expectProblems('', ['inv.yml:1:1: the file is empty']);
});

test('file with only comments is empty', async () => {
  await expectProblems('# nothing here\n', ['inv.yml:1:1: the file is empty']);
});

test('several YAML documents', async () => {
  await expectProblems(inventory() + '---\nweb: {}\n', ['inv.yml:20:1: the file holds several YAML documents (---); one is expected']);
});

test('JSON input is located the same way', async () => {
  const json = JSON.stringify({ web: { hosts: {} }, lb: { hosts: { a: { address: '10.0.0.5' } } }, vrrp: { instances: [] } }, null, 2);
  await expectProblems(json, ['inv.yml:13:18: vrrp.instances: needs at least 1 item']);
});

// --- schema level -------------------------------------------------------------------------

test('wrong type: a quoted number', async () => {
  await expectProblems(inventory({ 13: '      vrid: "50"' }), ['inv.yml:13:13: vrrp.instances[0].vrid: expected a number, got the string "50"']);
});

test('wrong type: a scalar where a list is expected', async () => {
  await expectProblems(inventory({ 15: '      vips: 10.0.0.3/24' }), [
    'inv.yml:15:13: vrrp.instances[0].vips: expected a list, got the string "10.0.0.3/24"',
  ]);
});

test('empty value points at its key', async () => {
  await expectProblems(inventory({ 13: '      vrid:' }), ['inv.yml:13:7: vrrp.instances[0].vrid: expected a number, got an empty value']);
});

test('missing required key points at the parent (flow mapping)', async () => {
  await expectProblems(inventory({ 8: '    lb5: { }' }), ['inv.yml:8:5: lb.hosts.lb5.address: required key is missing']);
});

test('missing required key points at the parent (block mapping)', async () => {
  await expectProblems(inventory({ 8: '    lb5:\n      interface: eth1' }), ['inv.yml:8:5: lb.hosts.lb5.address: required key is missing']);
});

test('missing top-level section', async () => {
  const text = inventory().split('\n').slice(0, 9).join('\n') + '\n';
  await expectProblems(text, ['inv.yml:1:1: vrrp: required key is missing']);
});

test('unknown key with a suggestion, and the key it should have been is missing', async () => {
  await expectProblems(inventory({ 14: '      intreface: eth0' }), [
    'inv.yml:12:7: vrrp.instances[0].interface: required key is missing',
    'inv.yml:14:7: vrrp.instances[0].intreface: unknown key (did you mean interface?)',
  ]);
});

test('unknown key without a close match', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      colour: blue' }), ['inv.yml:15:7: vrrp.instances[0].colour: unknown key']);
});

test('unknown top-level key', async () => {
  await expectProblems(inventory() + 'nginxx: { listen: 80 }\n', ['inv.yml:20:1: nginxx: unknown key (did you mean nginx?)']);
});

test('unknown key reached through a YAML alias', async () => {
  await expectProblems(inventory({ 1: 'ssh: &s { user: root, prot: 22 }' }), ['inv.yml:1:23: ssh.prot: unknown key (did you mean port?)']);
});

test('every problem at once, in file order', async () => {
  await expectProblems(inventory({ 13: '      vrid: fifty', 14: '      interface: eth0\n      advert: 1' }), [
    'inv.yml:13:13: vrrp.instances[0].vrid: expected a number, got the string "fifty"',
    'inv.yml:15:7: vrrp.instances[0].advert: unknown key',
  ]);
});

test('YAML 1.1 boolean habit: on is a string', async () => {
  await expectProblems(inventory() + 'nginx:\n  proxy_params: { buffering: on }\n', [
    'inv.yml:21:30: nginx.proxy_params.buffering: expected true or false, got the string "on" (YAML 1.2 reads on as a string: write true or false)',
  ]);
});

test('enum value with a suggestion', async () => {
  await expectProblems(inventory() + 'nginx:\n  proxy_params: { host_header: $hots }\n', [
    'inv.yml:21:32: nginx.proxy_params.host_header: expected one of $host, $http_host, got the string "$hots" (did you mean $host?)',
  ]);
});

test('VRRP version other than 2 or 3', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      version: 4' }), [
    'inv.yml:15:16: vrrp.instances[0].version: expected one of 2, 3, got the number 4',
  ]);
});

test('port out of range', async () => {
  await expectProblems(inventory() + 'nginx: { listen: 0 }\n', ['inv.yml:20:18: nginx.listen: must be at least 1, got the number 0']);
});

test('invalid IPv4 address', async () => {
  await expectProblems(inventory({ 4: '    web7: { address: 10.0.0.256 }' }), [
    'inv.yml:4:22: web.hosts.web7.address: expected an IPv4 address like 10.0.0.5, got the string "10.0.0.256"',
  ]);
});

test('invalid host name is reported at the name', async () => {
  await expectProblems(inventory({ 5: '    web_8!: { address: 10.0.0.8 }' }), [
    `inv.yml:5:5: web.hosts["web_8!"]: a host name must start with a letter or digit and use only letters, digits, '_', '.' and '-' (at most 63), got the string "web_8!"`,
  ]);
});

test('metrics_listen must be HOST:PORT or false', async () => {
  await expectProblems(inventory() + 'haupd: { metrics_listen: "localhost:9650" }\n', [
    'inv.yml:20:26: haupd.metrics_listen: expected HOST:PORT like 127.0.0.1:9650, or false to disable metrics, got the string "localhost:9650"',
  ]);
});

test('inline secret is refused', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS, pass: hunter2 }' }), [
    'inv.yml:17:33: vrrp.instances[0].auth.pass: a secret is { env: NAME } or { file: PATH } (never inline), got the string "hunter2"',
  ]);
});

test('secret with both env and file', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS, pass: { env: PASS, file: /x } }' }), [
    'inv.yml:17:33: vrrp.instances[0].auth.pass: a secret needs exactly one of env or file',
  ]);
});

// --- semantic checks ----------------------------------------------------------------------

test('VRID 0', async () => {
  await expectProblems(inventory({ 13: '      vrid: 0' }), ['inv.yml:13:13: vrrp.instances[0].vrid: VRID must be 1..255, got the number 0']);
});

test('VRID 256', async () => {
  await expectProblems(inventory({ 13: '      vrid: 256' }), ['inv.yml:13:13: vrrp.instances[0].vrid: VRID must be 1..255, got the number 256']);
});

test('VRID reused on the same interface', async () => {
  await expectProblems(inventory({ 18: secondInstance(VI_2.replace('vrid: 51', 'vrid: 50')) }), [
    'inv.yml:18:27: vrrp.instances[1].vrid: VRID 50 is already used by instance VI_1 on eth0 of lb5; VRIDs must be unique per interface',
  ]);
});

test('VRID reused on an interface overridden per host', async () => {
  const text = inventory({
    9: '    lb6: { address: 10.0.0.6, interface: eth1 }',
    18: secondInstance(VI_2.replace('vrid: 51', 'vrid: 50').replace('interface: eth0', 'interface: eth2')),
  });
  await expectProblems(text, [
    'inv.yml:18:27: vrrp.instances[1].vrid: VRID 50 is already used by instance VI_1 on eth1 of lb6; VRIDs must be unique per interface',
  ]);
});

test('VIP without a prefix length', async () => {
  await expectProblems(inventory({ 15: '      vips: [10.0.0.3]' }), [
    'inv.yml:15:14: vrrp.instances[0].vips[0]: expected an IPv4 address with its prefix length, like 10.0.0.3/24, got the string "10.0.0.3"',
  ]);
});

test('VIP outside the subnet of every LB', async () => {
  await expectProblems(inventory({ 15: '      vips: [10.0.1.3/24]' }), [
    "inv.yml:15:14: vrrp.instances[0].vips[0]: VIP 10.0.1.3/24 is outside lb5's subnet (10.0.0.5/24); every LB of the instance must be in the VIP's subnet",
    "inv.yml:15:14: vrrp.instances[0].vips[0]: VIP 10.0.1.3/24 is outside lb6's subnet (10.0.0.6/24); every LB of the instance must be in the VIP's subnet",
  ]);
});

test('VIP outside the subnet of one LB only', async () => {
  await expectProblems(inventory({ 9: '    lb6: { address: 10.0.0.130 }', 15: '      vips: [10.0.0.3/25]' }), [
    "inv.yml:15:14: vrrp.instances[0].vips[0]: VIP 10.0.0.3/25 is outside lb6's subnet (10.0.0.130/25); every LB of the instance must be in the VIP's subnet",
  ]);
});

test('VIP is the network address', async () => {
  await expectProblems(inventory({ 15: '      vips: [10.0.0.0/24]' }), [
    'inv.yml:15:14: vrrp.instances[0].vips[0]: 10.0.0.0/24 is the network or broadcast address of its subnet',
  ]);
});

test('VIP equal to a web host address', async () => {
  await expectProblems(inventory({ 15: '      vips: [10.0.0.7/24]' }), [
    'inv.yml:15:14: vrrp.instances[0].vips[0]: VIP 10.0.0.7 is the address of web host web7',
  ]);
});

test("VIP equal to an LB's own address without priority 255", async () => {
  await expectProblems(inventory({ 15: '      vips: [10.0.0.5/24]' }), [
    "inv.yml:15:14: vrrp.instances[0].vips[0]: VIP 10.0.0.5 is lb5's own address: give lb5 priority 255 (address owner) or choose a free address",
  ]);
});

test('VIP listed twice in one instance', async () => {
  await expectProblems(inventory({ 15: '      vips: [10.0.0.3/24, 10.0.0.3/24]' }), ['inv.yml:15:27: vrrp.instances[0].vips[1]: VIP 10.0.0.3 is listed twice']);
});

test('VIP shared by two instances', async () => {
  await expectProblems(inventory({ 18: secondInstance(VI_2.replace('10.0.0.4/24', '10.0.0.3/24')) }), [
    'inv.yml:18:55: vrrp.instances[1].vips[0]: VIP 10.0.0.3 is already a VIP of instance VI_1',
  ]);
});

test('priority 255 for an LB that owns no VIP', async () => {
  await expectProblems(inventory({ 16: '      priorities: { lb5: 255, lb6: 100 }' }), [
    "inv.yml:16:26: vrrp.instances[0].priorities.lb5: priority 255 is reserved for the address owner, but lb5's address 10.0.0.5 is not a VIP of VI_1",
  ]);
});

test('priority 0', async () => {
  await expectProblems(inventory({ 16: '      priorities: { lb5: 150, lb6: 0 }' }), [
    'inv.yml:16:36: vrrp.instances[0].priorities.lb6: priority must be 1..254 (255 only for the owner of a VIP address), got 0',
  ]);
});

test('priority 256', async () => {
  await expectProblems(inventory({ 16: '      priorities: { lb5: 256, lb6: 100 }' }), [
    'inv.yml:16:26: vrrp.instances[0].priorities.lb5: priority must be 1..254 (255 only for the owner of a VIP address), got 256',
  ]);
});

test('equal priorities within an instance', async () => {
  await expectProblems(inventory({ 16: '      priorities: { lb5: 100, lb6: 100 }' }), [
    "inv.yml:16:36: vrrp.instances[0].priorities.lb6: priority 100 is also lb5's; priorities within an instance must be distinct (a tie would be broken by IP address, not by intent)",
  ]);
});

test('instance with a single LB', async () => {
  await expectProblems(inventory({ 16: '      priorities: { lb5: 150 }' }), [
    'inv.yml:9:5: warning: lb.hosts.lb6: lb6 takes part in no VRRP instance',
    'inv.yml:16:7: vrrp.instances[0].priorities: an instance needs at least two LBs, got 1 (lb5)',
  ]);
});

test('priority for a host that is not defined', async () => {
  await expectProblems(inventory({ 16: '      priorities: { lb5: 150, lb7: 100 }' }), [
    'inv.yml:9:5: warning: lb.hosts.lb6: lb6 takes part in no VRRP instance',
    'inv.yml:16:31: vrrp.instances[0].priorities.lb7: lb7 is not an LB host (did you mean lb6?)',
  ]);
});

test('priority for a web host', async () => {
  await expectProblems(inventory({ 16: '      priorities: { lb5: 150, web7: 100 }' }), [
    'inv.yml:9:5: warning: lb.hosts.lb6: lb6 takes part in no VRRP instance',
    'inv.yml:16:31: vrrp.instances[0].priorities.web7: web7 is a web host; only LB hosts take part in VRRP',
  ]);
});

test('v2 sub-second advert interval is refused (keepalived#1615)', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      advert_int: 0.4' }), [
    'inv.yml:15:19: vrrp.instances[0].advert_int: VRRP v2 advertises whole seconds; 0.4 is refused (keepalived silently rounds it down, 0.4 becoming 0, and floods: keepalived#1615); use 1..255, or version: 3 for sub-second adverts',
  ]);
});

test('v2 advert interval above 255 s', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      advert_int: 256' }), [
    'inv.yml:15:19: vrrp.instances[0].advert_int: VRRP v2 advert_int must be 1..255 seconds, got 256',
  ]);
});

test('v3 advert interval finer than 0.01 s', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      version: 3\n      advert_int: 0.005', 17: '' }), [
    'inv.yml:16:19: vrrp.instances[0].advert_int: VRRP v3 advert_int must be 0.01..40.95 seconds in steps of 0.01, got 0.005',
  ]);
});

test('v3 advert interval above 40.95 s', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      version: 3\n      advert_int: 41', 17: '' }), [
    'inv.yml:16:19: vrrp.instances[0].advert_int: VRRP v3 advert_int must be 0.01..40.95 seconds in steps of 0.01, got 41',
  ]);
});

test('PASS auth with VRRP v3', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      version: 3' }), [
    'inv.yml:18:21: vrrp.instances[0].auth.type: auth type PASS exists only in VRRP v2 (v3 has no authentication, RFC 5798); use version: 2 or remove auth',
  ]);
});

test('PASS auth without a pass', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS }' }), [
    'inv.yml:17:7: vrrp.instances[0].auth.pass: auth type PASS needs pass: { env: NAME } or { file: PATH }',
  ]);
});

test('a pass with auth type none', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: none, pass: { env: PASS } }' }), [
    'inv.yml:17:27: vrrp.instances[0].auth.pass: pass is only used with type PASS',
  ]);
});

test('PASS longer than 8 characters', async () => {
  await expectProblems(inventory(), [
    'inv.yml:17:33: vrrp.instances[0].auth.pass: the PASS from env PASS is 9 bytes; VRRP v2 carries at most 8 (the rest would be cut off on the wire)',
  ], { io: fakeIO({ PASS: 'secret123' }) });
});

test('PASS longer than 8 bytes in UTF-8', async () => {
  await expectProblems(inventory(), [
    'inv.yml:17:33: vrrp.instances[0].auth.pass: the PASS from env PASS is 10 bytes; VRRP v2 carries at most 8 (the rest would be cut off on the wire)',
  ], { io: fakeIO({ PASS: 'pässwört' }) });
});

test('secret from an unset environment variable (deploy mode)', async () => {
  await expectProblems(inventory(), ['inv.yml:17:33: vrrp.instances[0].auth.pass: environment variable PASS is not set'], { io: fakeIO({}) });
});

test('secret from an unset environment variable (check mode) is a warning', async () => {
  await expectProblems(inventory(), [
    'inv.yml:17:33: warning: vrrp.instances[0].auth.pass: environment variable PASS is not set (not needed to check the inventory; required at deploy)',
  ], { io: fakeIO({}), secrets: 'report' });
});

test('empty secret is an error even in check mode', async () => {
  await expectProblems(inventory(), ['inv.yml:17:33: vrrp.instances[0].auth.pass: environment variable PASS is empty'], { io: fakeIO({ PASS: '' }), secrets: 'report' });
});

test('unreadable secret file', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS, pass: { file: /etc/haup/pass } }' }), [
    'inv.yml:17:33: vrrp.instances[0].auth.pass: cannot read secret file /etc/haup/pass: no such file',
  ]);
});

test('secret file readable by its group and others is a warning', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS, pass: { file: /etc/haup/pass } }' }), [
    'inv.yml:17:33: warning: vrrp.instances[0].auth.pass: secret file /etc/haup/pass is accessible to its group and others (mode 0644); run chmod 600 /etc/haup/pass',
  ], { io: fakeIO({}, { '/etc/haup/pass': { text: 'abc\n', mode: 0o644 } }) });
});

test('secret file holding only a newline is empty', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS, pass: { file: /p } }' }), [
    'inv.yml:17:33: vrrp.instances[0].auth.pass: secret file /p is empty',
  ], { io: fakeIO({}, { '/p': { text: '\n', mode: 0o600 } }) });
});

test('host name used in two groups', async () => {
  await expectProblems(inventory({ 9: '    web7: { address: 10.0.0.6 }' }), [
    'inv.yml:7:3: lb.hosts: at least two LB hosts are needed for a VRRP pair, got 1',
    'inv.yml:9:5: lb.hosts.web7: host name web7 is already used in the web group; names must be unique across web, lb and probe',
    'inv.yml:16:31: vrrp.instances[0].priorities.lb6: lb6 is not an LB host',
  ]);
});

test('address used by two hosts', async () => {
  await expectProblems(inventory({ 5: '    web8: { address: 10.0.0.7 }' }), ['inv.yml:5:22: web.hosts.web8.address: address 10.0.0.7 is already used by web7']);
});

test('no web host', async () => {
  await expectProblems(inventory({ 3: '  hosts: {}', 4: '', 5: '' }), [
    'inv.yml:3:3: web.hosts: at least one web host is needed (the nginx upstream would be empty)',
  ]);
});

test('instance name used twice', async () => {
  await expectProblems(inventory({ 18: secondInstance(VI_2.replace('VI_2', 'VI_1')) }), [
    'inv.yml:18:15: vrrp.instances[1].name: instance name VI_1 is already used by vrrp.instances[0]',
  ]);
});

test('tracked check that does not exist', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS, pass: { env: PASS } }\n      track: [ngnix]' }), [
    'inv.yml:18:15: vrrp.instances[0].track[0]: no check named ngnix in vrrp.checks (did you mean nginx?)',
    'inv.yml:20:5: warning: vrrp.checks.nginx: check nginx is tracked by no instance',
  ]);
});

test('unknown built-in check', async () => {
  await expectProblems(inventory({ 19: '    nginx: { script: builtin:ngnix }' }), [
    'inv.yml:19:22: vrrp.checks.nginx.script: unknown built-in check builtin:ngnix (did you mean builtin:nginx?); built-ins: builtin:nginx',
  ]);
});

test('checksum mode with VRRP v2', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      checksum: rfc9568' }), [
    'inv.yml:15:7: vrrp.instances[0].checksum: checksum applies to VRRP v3 only (the v2 checksum always covers the message alone)',
  ]);
});

test('preempt_delay with preempt: false', async () => {
  await expectProblems(inventory({ 14: '      interface: eth0\n      preempt: false\n      preempt_delay: 10' }), [
    'inv.yml:16:7: vrrp.instances[0].preempt_delay: preempt_delay has no effect with preempt: false',
  ]);
});

test('partition guard gateway that is a VIP', async () => {
  await expectProblems(inventory() + '  partition_guard: { gateway: 10.0.0.3 }\n', [
    'inv.yml:20:31: vrrp.partition_guard.gateway: the gateway 10.0.0.3 is a VIP of VI_1: a master would always reach itself',
  ]);
});

test('a negative weight too small to move the VIP is a warning', async () => {
  await expectProblems(inventory({ 19: '    nginx: { script: builtin:nginx, weight: -20 }' }), [
    'inv.yml:19:45: warning: vrrp.checks.nginx.weight: a failing nginx check lowers lb5 of VI_1 to 150-20=130, not below lb6 (100): it will not move the VIP',
  ]);
});

test('misspelled secret source', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS, pass: { evn: PASS } }' }), [
    'inv.yml:17:35: vrrp.instances[0].auth.pass.evn: unknown key (did you mean env?)',
  ]);
});

test('empty secret mapping', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: PASS, pass: { } }' }), [
    'inv.yml:17:33: vrrp.instances[0].auth.pass: a secret needs exactly one of env or file',
  ]);
});

test('x- keys hold anchors; merged keys are still validated', async () => {
  await expectProblems(inventory({ 1: 'x-ssh: &ssh { user: root }\nssh: { <<: *ssh, port: 22 }' }), []);
  await expectProblems(inventory({ 2: 'x-d: &d { ssh: { port: 2 } }\nweb:', 8: '    lb5: { <<: *d, address: 10.0.0.5, prot: 1 }' }), [
    'inv.yml:9:39: lb.hosts.lb5.prot: unknown key',
  ]);
});

test('unknown top-level key that is not an x- extension', async () => {
  await expectProblems(inventory({ 1: 'defaults: &d { user: root }\nssh: *d' }), ['inv.yml:1:1: defaults: unknown key']);
});

test('alias to an anchor that does not exist', async () => {
  await expectProblems(inventory({ 17: '      auth: { type: *PASS, pass: { env: PASS } }' }), [
    'inv.yml:17:21: YAML error: unknown anchor *PASS (an anchor &PASS must come before it)',
  ]);
});
