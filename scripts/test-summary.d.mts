export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  filesFailedToRun: string[];
  unhandledErrors: number;
}
export function closingLines(summary: TestSummary | null, options?: { buildFailed?: boolean }): string[];
