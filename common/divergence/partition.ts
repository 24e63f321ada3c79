// Which replicas agree with which: groups of identical content, the strict majority among them,
// and the outliers. Partitions are interned, so a tile's verdict compares them by identity. Pure.

import { type Observation } from './tile-verdict';

/** How the replicas split over one tile's content (or over the desktop size). */
export interface Partition {
  /** Stable text form: groups of replica ids, in registration order, e.g. "r1,r2|r3". */
  readonly key: string;
  /** Every group of agreeing replicas, the majority first, then by first member. */
  readonly groups: readonly (readonly string[])[];
  /** Replicas outside the strict majority — or every compared replica when there is none. */
  readonly outliers: readonly string[];
  /** The strict majority (empty when there is none). */
  readonly agreeing: readonly string[];
  /** No group holds more than half of all replicas: nobody is called the good one. */
  readonly noMajority: boolean;
  /** The observation "disagree with this split", allocated once. */
  readonly disagreement: Observation;
}

/** Replicas compared at once; group labels are packed 4 bits per replica into one exact double. */
export const MAX_REPLICAS = 13;

/**
 * Interns partitions of a fixed list of compared replicas. `labels[i]` is the group of replica i,
 * numbered by first appearance (so equal splits give equal labels).
 */
export class PartitionRegistry {
  private readonly byCode = new Map<number, Partition>();

  /**
   * @param replicaIds the compared replicas, in registration order
   * @param replicaCount every replica (compared or not), the base of "strict majority"
   */
  constructor(
    private readonly replicaIds: readonly string[],
    private readonly replicaCount: number,
  ) {
    if (replicaIds.length > MAX_REPLICAS) throw new RangeError(`at most ${MAX_REPLICAS} replicas can be compared`);
  }

  /** The partition for these labels (one per compared replica); at least two groups expected. */
  fromLabels(labels: Uint8Array): Partition {
    let code = 0;
    let scale = 1;
    for (let index = 0; index < this.replicaIds.length; index++) {
      code += labels[index]! * scale;
      scale *= 16;
    }
    const known = this.byCode.get(code);
    if (known !== undefined) return known;
    const created = this.create(labels);
    this.byCode.set(code, created);
    return created;
  }

  private create(labels: Uint8Array): Partition {
    const groups: string[][] = [];
    this.replicaIds.forEach((id, index) => {
      const label = labels[index]!;
      while (groups.length <= label) groups.push([]);
      groups[label]!.push(id);
    });
    const key = groups.map((group) => group.join(',')).join('|');
    const majority = groups.find((group) => group.length * 2 > this.replicaCount) ?? null;
    const outliers = majority === null ? [...this.replicaIds] : this.replicaIds.filter((id) => !majority.includes(id));
    const ordered = majority === null ? groups : [majority, ...groups.filter((group) => group !== majority)];
    return new InternedPartition(key, ordered, outliers, majority === null ? [] : [...majority]);
  }
}

class InternedPartition implements Partition {
  readonly noMajority: boolean;
  readonly disagreement: Observation;

  constructor(
    readonly key: string,
    readonly groups: readonly (readonly string[])[],
    readonly outliers: readonly string[],
    readonly agreeing: readonly string[],
  ) {
    this.noMajority = agreeing.length === 0;
    this.disagreement = { kind: 'disagree', partition: this };
  }
}
