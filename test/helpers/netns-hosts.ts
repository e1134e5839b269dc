import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** A test host: a network namespace joined to this machine by a veth pair, with its own address. */
export interface TestHost {
  namespace: string;
  /** The host's own address (what a server here sees as the peer). */
  address: string;
  /** This machine's address as the host reaches it: servers listening on 0.0.0.0 answer there. */
  gateway: string;
  /** Runs a command inside the namespace (`ip netns exec`, which execs: the child is the command). */
  spawn(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess;
  /** Cuts the host's link: packets are dropped both ways, open connections hang unanswered. */
  cut(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * `count` hosts on 10.231.N.0/30 subnets, or the reason they cannot be made (not root, no
 * iproute2, namespaces not allowed). `remove()` deletes the namespaces and with them the links.
 */
export function makeHosts(count: number): { hosts: TestHost[]; remove(): void } | { unavailable: string } {
  const tag = `mr${process.pid % 100_000}`;
  const made: string[] = [];
  const remove = () => {
    for (const namespace of made) {
      try {
        ip('netns', 'del', namespace);
      } catch {
        // already gone
      }
    }
  };
  try {
    const hosts = Array.from({ length: count }, (_, i): TestHost => {
      const namespace = `${tag}h${i}`;
      const outside = `${tag}o${i}`; // interface names: at most 15 characters
      const subnet = `10.231.${(process.pid + i * 37) % 250}`;
      ip('netns', 'add', namespace);
      made.push(namespace);
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', `${tag}i${i}`, 'netns', namespace);
      ip('addr', 'add', `${subnet}.1/30`, 'dev', outside);
      ip('link', 'set', outside, 'up');
      ip('-n', namespace, 'addr', 'add', `${subnet}.2/30`, 'dev', `${tag}i${i}`);
      ip('-n', namespace, 'link', 'set', `${tag}i${i}`, 'up');
      ip('-n', namespace, 'link', 'set', 'lo', 'up');
      return {
        namespace,
        address: `${subnet}.2`,
        gateway: `${subnet}.1`,
        spawn: (command, args, env) => spawn('ip', ['netns', 'exec', namespace, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
        cut: () => ip('link', 'set', outside, 'down'),
      };
    });
    return { hosts, remove };
  } catch (error) {
    remove();
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { unavailable: stderr || (error as Error).message };
  }
}
