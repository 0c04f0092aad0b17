import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Which of `candidates` (process ids) holds the client end of a TCP connection on 127.0.0.1, found
 * through Linux's /proc: the socket's inode in /proc/net/tcp, then the process whose fd links to it.
 * It tells the receiver which hub process sent a delivery, so a repeat can be told apart from a
 * hand-over between hubs. Undefined when it cannot be found (not Linux, process gone).
 */
export function peerProcess(
  peerPort: number,
  localPort: number,
  candidates: readonly number[],
): number | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const local = `0100007F:${hex(peerPort)}`;
  const remote = `0100007F:${hex(localPort)}`;
  let inode: string | undefined;
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[2] === remote) {
      inode = fields[9];
      break;
    }
  }
  if (!inode || inode === '0') return undefined;
  const target = `socket:[${inode}]`;
  for (const pid of candidates) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid;
        } catch {
          // The fd closed while we looked.
        }
      }
    } catch {
      // The process is gone.
    }
  }
  return undefined;
}
