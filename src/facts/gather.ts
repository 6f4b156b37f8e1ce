// Facts over a connection: one exec of the facts script, then the pure parser.
import { commandFailed, type Connection } from '../connectors/connection.ts';
import { HostError } from '../util/errors.ts';
import { parseFacts } from './parse.ts';
import { factsScript } from './script.ts';
import type { FactRequest, Facts } from './types.ts';

export async function gatherFacts(conn: Connection, req: FactRequest): Promise<Facts> {
  const r = await conn.exec('sh -s', { stdin: factsScript(req) });
  if (r.code !== 0) throw commandFailed(conn.host, 'gathering facts', r);
  try {
    return parseFacts(r.stdout.toString('utf8'), req);
  } catch (e) {
    throw new HostError(conn.host, `cannot parse facts: ${(e as Error).message}`);
  }
}
