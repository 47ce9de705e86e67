using System;
using System.Collections.Generic;

namespace StyleBridge.Core
{
    /// <summary>
    /// Events per second over the last <see cref="WindowSeconds"/> (e.g. frames per second), the
    /// same rule as the Python side's <c>stylebridge.timing.RateMeter</c>: n events in the window
    /// span n - 1 intervals, measured up to "now" so that the rate decays when events stop instead
    /// of freezing at its last value. Times are seconds on any monotonic clock the caller chooses.
    /// Thread-safe.
    /// </summary>
    public sealed class RateMeter
    {
        private readonly object _lock = new object();
        private readonly Queue<double> _ticks = new Queue<double>();
        private double _newest;
        private long _total;

        /// <summary>Creates a meter over the last <paramref name="windowSeconds"/> seconds.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The window is not positive.</exception>
        public RateMeter(double windowSeconds = 5.0)
        {
            if (!(windowSeconds > 0))
            {
                throw new ArgumentOutOfRangeException("windowSeconds", windowSeconds, "rate window must be > 0 s");
            }
            WindowSeconds = windowSeconds;
        }

        /// <summary>Length of the window in seconds.</summary>
        public double WindowSeconds { get; }

        /// <summary>Events ever ticked.</summary>
        public long Total
        {
            get { lock (_lock) { return _total; } }
        }

        /// <summary>One event at time <paramref name="now"/>.</summary>
        public void Tick(double now)
        {
            lock (_lock)
            {
                _ticks.Enqueue(now);
                _newest = now;
                _total++;
                Trim(now);
            }
        }

        /// <summary>Events per second at time <paramref name="now"/> (0 with fewer than two events in the window).</summary>
        public double Rate(double now)
        {
            lock (_lock)
            {
                Trim(now);
                if (_ticks.Count < 2)
                {
                    return 0;
                }
                double span = Math.Max(now, _newest) - _ticks.Peek();
                return span > 0 ? (_ticks.Count - 1) / span : 0;
            }
        }

        private void Trim(double now)
        {
            double horizon = now - WindowSeconds;
            while (_ticks.Count > 0 && _ticks.Peek() < horizon)
            {
                _ticks.Dequeue();
            }
        }
    }
}
