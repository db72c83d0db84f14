/** /cloud-storage snapshot, metrics sources and metrics series. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { AppContext } from '../../src/app/context.js';
import { svgToPng } from '../../src/charts/png.js';
import { lineChartSvg } from '../../src/charts/svg-charts.js';
import type { Message } from '../../src/interaction/conversation.js';
import { checkPrefix, formatBytes, storageSummary } from '../../src/storage/insights.js';
import { checkHours, metricSeries, metricSources, metricsLocation, readMetrics, writeSnapshot } from '../../src/storage/metrics-store.js';
import { metricSeriesView, metricSourcesView, snapshotView } from '../views/storage.js';
import type { StorageAction } from './cloud-storage.js';
import type { StorageAccess } from './storage-access.js';

type MetricsOptions = Extract<StorageAction, { action: 'snapshot' | 'metrics sources' | 'metrics series' }>;

function isMetrics(options: StorageAction): options is MetricsOptions {
  return options.action === 'snapshot' || options.action === 'metrics sources' || options.action === 'metrics series';
}

export function metricsTargets(options: StorageAction): string[] {
  return isMetrics(options) ? [options.metrics_bucket] : [];
}

export const metricsAction = {
  /** Throws on a bad prefix or window before anything is asked. */
  validate(options: StorageAction): void {
    if (!isMetrics(options)) return;
    metricsLocation(options.metrics_bucket, options.metrics_prefix);
    if ('prefix' in options) checkPrefix(options.prefix);
    if ('hours' in options) checkHours(options.hours);
  },

  async run(app: AppContext, client: S3Client, access: StorageAccess, options: MetricsOptions, signal: AbortSignal): Promise<Message> {
    const location = metricsLocation(options.metrics_bucket, options.metrics_prefix);
    const now = app.clock.now();
    switch (options.action) {
      case 'snapshot': {
        const prefix = checkPrefix(options.prefix);
        const summary = await storageSummary(client, options.bucket, prefix, { signal });
        const { key, line } = await writeSnapshot(client, location, { bucket: options.bucket, prefix }, summary, now);
        return snapshotView(access.via, location, key, line);
      }
      case 'metrics sources': {
        const read = await readMetrics(client, location, options.hours, now, { signal });
        return metricSourcesView(access.via, location, options.hours, metricSources(read.lines), read);
      }
      case 'metrics series': {
        const prefix = checkPrefix(options.prefix);
        const read = await readMetrics(client, location, options.hours, now, { signal });
        const points = metricSeries(read.lines, options.bucket, prefix);
        const svg = lineChartSvg({
          title: `Bytes in ${options.bucket}${prefix ? `/${prefix}` : ''}, last ${options.hours} h`,
          points: points.map((point) => ({ at: point.at, value: point.bytes })),
          formatValue: formatBytes,
        });
        const chart = { name: 'bytes-over-time.png', data: svgToPng(svg), description: `Bytes stored in ${options.bucket} over the last ${options.hours} hours` };
        return metricSeriesView(access.via, { bucket: options.bucket, prefix }, options.hours, points, read, chart);
      }
    }
  },
};
