using System;
using System.Collections.Generic;

namespace StyleBridge.Core
{
    /// <summary>
    /// Statistics of the samples in a window, in milliseconds; all zeros when the window is empty.
    /// Field for field the Python side's <c>stylebridge.timing.TimingSummary</c>.
    /// </summary>
    public struct TimingSummary
    {
        /// <summary>Creates a summary (the stats do).</summary>
        public TimingSummary(int count, double meanMs, double p50Ms, double p90Ms, double p99Ms, double lastMs,
            long totalCount)
        {
            Count = count;
            MeanMs = meanMs;
            P50Ms = p50Ms;
            P90Ms = p90Ms;
            P99Ms = p99Ms;
            LastMs = lastMs;
            TotalCount = totalCount;
        }

        /// <summary>Samples in the window.</summary>
        public int Count { get; }

        /// <summary>Mean of the window.</summary>
        public double MeanMs { get; }

        /// <summary>Median of the window.</summary>
        public double P50Ms { get; }

        /// <summary>90th percentile of the window.</summary>
        public double P90Ms { get; }

        /// <summary>99th percentile of the window.</summary>
        public double P99Ms { get; }

        /// <summary>The most recent sample.</summary>
        public double LastMs { get; }

        /// <summary>Samples ever added, including those that have left the window.</summary>
        public long TotalCount { get; }
    }

    /// <summary>
    /// The last <see cref="Window"/> durations, summarized on demand (median, p90, p99 of a live
    /// stream say more than an all-time mean). Percentiles are numpy's default ("linear",
    /// Hyndman and Fan type 7), computed the same way as <c>numpy.percentile</c> so that a Unity
    /// table and the Python table agree to the last digit. Thread-safe: one thread may add while
    /// another summarizes.
    /// </summary>
    public sealed class TimingStats
    {
        /// <summary>The Python side's default window length.</summary>
        public const int DefaultWindow = 512;

        private readonly object _lock = new object();
        private readonly double[] _ring;
        private int _next;
        private int _count;
        private long _total;
        private double _last;

        /// <summary>Creates empty stats over the last <paramref name="window"/> samples.</summary>
        /// <exception cref="ArgumentOutOfRangeException">window is not positive.</exception>
        public TimingStats(int window = DefaultWindow)
        {
            if (window <= 0)
            {
                throw new ArgumentOutOfRangeException("window", window, "timing window length must be > 0");
            }
            _ring = new double[window];
        }

        /// <summary>How many samples the window holds at most.</summary>
        public int Window
        {
            get { return _ring.Length; }
        }

        /// <summary>Samples in the window now.</summary>
        public int Count
        {
            get { lock (_lock) { return _count; } }
        }

        /// <summary>Samples ever added.</summary>
        public long TotalCount
        {
            get { lock (_lock) { return _total; } }
        }

        /// <summary>Records one duration; NaN and infinities are ignored (they would poison means).</summary>
        public void Add(double ms)
        {
            if (double.IsNaN(ms) || double.IsInfinity(ms))
            {
                return;
            }
            lock (_lock)
            {
                _ring[_next] = ms;
                _next = (_next + 1) % _ring.Length;
                if (_count < _ring.Length)
                {
                    _count++;
                }
                _total++;
                _last = ms;
            }
        }

        /// <summary>Forgets every sample (the total count too).</summary>
        public void Clear()
        {
            lock (_lock)
            {
                _next = 0;
                _count = 0;
                _total = 0;
                _last = 0;
            }
        }

        /// <summary>Mean, median, p90, p99 and last sample of the window.</summary>
        public TimingSummary Summary()
        {
            double[] values;
            long total;
            double last;
            lock (_lock)
            {
                total = _total;
                last = _last;
                values = new double[_count];
                int start = (_next - _count + _ring.Length) % _ring.Length;
                for (int i = 0; i < _count; i++)
                {
                    values[i] = _ring[(start + i) % _ring.Length];
                }
            }
            if (values.Length == 0)
            {
                return new TimingSummary(0, 0, 0, 0, 0, 0, total);
            }
            double sum = 0;
            for (int i = 0; i < values.Length; i++)
            {
                sum += values[i];
            }
            Array.Sort(values);
            return new TimingSummary(values.Length, sum / values.Length, PercentileOfSorted(values, 50),
                PercentileOfSorted(values, 90), PercentileOfSorted(values, 99), last, total);
        }

        /// <summary>
        /// The <paramref name="percent"/>-th percentile of <paramref name="values"/> (any order),
        /// as <c>numpy.percentile(values, percent)</c> computes it.
        /// </summary>
        /// <exception cref="ArgumentException">No values, or percent outside 0..100.</exception>
        public static double Percentile(IList<double> values, double percent)
        {
            if (values == null || values.Count == 0)
            {
                throw new ArgumentException("a percentile needs at least one value", "values");
            }
            var sorted = new double[values.Count];
            values.CopyTo(sorted, 0);
            Array.Sort(sorted);
            return PercentileOfSorted(sorted, percent);
        }

        /// <summary>
        /// numpy's "linear" method on ascending <paramref name="sorted"/>: virtual index
        /// (n - 1) * percent / 100, then numpy's two-sided lerp (from the upper neighbour when the
        /// weight is at least one half), which is what makes the results bit-identical.
        /// </summary>
        public static double PercentileOfSorted(double[] sorted, double percent)
        {
            if (sorted == null || sorted.Length == 0)
            {
                throw new ArgumentException("a percentile needs at least one value", "sorted");
            }
            if (!(percent >= 0 && percent <= 100))
            {
                throw new ArgumentException("percentile " + percent + " is outside 0..100", "percent");
            }
            int n = sorted.Length;
            double quantile = percent / 100.0;
            double virtualIndex = (n - 1) * quantile;
            if (virtualIndex >= n - 1)
            {
                return sorted[n - 1];
            }
            double previous = Math.Floor(virtualIndex);
            int lower = (int)previous;
            double a = sorted[lower];
            double b = sorted[lower + 1];
            double gamma = virtualIndex - previous;
            double diff = b - a;
            return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
        }
    }
}
