/**
 * Admission for publishers: a cap on concurrent ingest connections per remote address. Every
 * `admit` that returned true must be paired with one `release`.
 */
export class IngestGate {
  private readonly perAddress = new Map<string, number>();
  readonly maxPerAddress: number;

  constructor(maxPerAddress: number) {
    this.maxPerAddress = maxPerAddress;
  }

  admit(address: string): boolean {
    const n = this.perAddress.get(address) ?? 0;
    if (n >= this.maxPerAddress) return false;
    this.perAddress.set(address, n + 1);
    return true;
  }

  release(address: string): void {
    const n = (this.perAddress.get(address) ?? 0) - 1;
    if (n > 0) this.perAddress.set(address, n);
    else this.perAddress.delete(address);
  }
}
