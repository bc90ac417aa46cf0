import { readFile, statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';

/** File systems worth measuring: real block devices and network mounts, not proc/sys/cgroup/tmpfs noise. */
const DISK_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'f2fs', 'vfat', 'exfat', 'ntfs', 'nfs', 'nfs4', 'cifs', 'overlay', 'fuseblk']);

export interface DiskReading {
  mount: string;
  totalBytes: number;
  freeBytes: number;
}

export interface NetworkReading {
  interface: string;
  receiveBytes: number;
  transmitBytes: number;
}

/** Host readings from the OS (Linux /proc where Node has no API); each returns empty rather than throwing. */
export class SystemReadings {
  private lastCpu = cpuTimes();

  /** Busy share of all CPUs since the previous call (0..1). */
  cpuUsage(): number {
    const now = cpuTimes();
    const idle = now.idle - this.lastCpu.idle;
    const total = now.total - this.lastCpu.total;
    this.lastCpu = now;
    return total <= 0 ? 0 : Math.min(1, Math.max(0, 1 - idle / total));
  }

  load(): [number, number, number] {
    return loadavg() as [number, number, number];
  }

  /** Total and available memory; "available" is MemAvailable (page cache counts as available), else free. */
  async memory(): Promise<{ totalBytes: number; availableBytes: number }> {
    const info = await readFile('/proc/meminfo', 'utf8').catch(() => '');
    const kb = /^MemAvailable:\s+(\d+)\s+kB/m.exec(info)?.[1];
    return { totalBytes: totalmem(), availableBytes: kb === undefined ? freemem() : Number(kb) * 1024 };
  }

  async disks(): Promise<DiskReading[]> {
    const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
    const seen = new Set<string>();
    const out: DiskReading[] = [];
    for (const line of mounts.split('\n')) {
      const [, mount, fsType] = line.split(' ');
      if (mount === undefined || fsType === undefined || !DISK_FS.has(fsType) || seen.has(mount)) continue;
      seen.add(mount);
      const decoded = mount.replace(/\\(\d{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
      try {
        const stats = await statfs(decoded);
        out.push({ mount: decoded, totalBytes: stats.blocks * stats.bsize, freeBytes: stats.bavail * stats.bsize });
      } catch {
        // A mount that vanished or is not readable is skipped, not fatal.
      }
    }
    return out;
  }

  async network(): Promise<NetworkReading[]> {
    const dev = await readFile('/proc/net/dev', 'utf8').catch(() => '');
    const out: NetworkReading[] = [];
    for (const line of dev.split('\n').slice(2)) {
      const match = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
      if (!match) continue;
      const fields = (match[2] as string).trim().split(/\s+/).map(Number);
      out.push({ interface: match[1] as string, receiveBytes: fields[0] ?? 0, transmitBytes: fields[8] ?? 0 });
    }
    return out;
  }
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}
