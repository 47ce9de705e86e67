using System;

namespace StyleBridge.Core
{
    /// <summary>A source of uniform random numbers in [0, 1); injectable so that tests are exact.</summary>
    public interface IRandomSource
    {
        /// <summary>A value in [0, 1).</summary>
        double NextDouble();
    }

    /// <summary><see cref="IRandomSource"/> over <see cref="System.Random"/> (thread-safe).</summary>
    public sealed class SystemRandomSource : IRandomSource
    {
        private readonly Random _random;
        private readonly object _lock = new object();

        /// <summary>Seeded from the clock.</summary>
        public SystemRandomSource()
        {
            _random = new Random();
        }

        /// <summary>Seeded for repeatable sequences.</summary>
        public SystemRandomSource(int seed)
        {
            _random = new Random(seed);
        }

        /// <inheritdoc />
        public double NextDouble()
        {
            lock (_lock)
            {
                return _random.NextDouble();
            }
        }
    }

    /// <summary>
    /// Reconnect delays: exponential from <see cref="InitialSeconds"/> by <see cref="Multiplier"/>,
    /// capped at <see cref="MaxSeconds"/>, each spread by ±<see cref="Jitter"/> (a fraction) so that
    /// many clients of a restarted server do not all come back in the same instant.
    /// Immutable.
    /// </summary>
    public sealed class BackoffPolicy
    {
        /// <summary>0.5 s doubling to 30 s, ±20 %, stable after 10 s of streaming.</summary>
        public static readonly BackoffPolicy Default = new BackoffPolicy(0.5, 30, 2, 0.2, 10);

        /// <summary>Creates a policy.</summary>
        /// <param name="initialSeconds">Delay before the first retry (before jitter), &gt; 0.</param>
        /// <param name="maxSeconds">Cap on every delay (after jitter), &gt;= initialSeconds.</param>
        /// <param name="multiplier">Growth per failed attempt, &gt;= 1.</param>
        /// <param name="jitter">Spread as a fraction of the delay, 0..1 (0.2 = ±20 %).</param>
        /// <param name="stableSeconds">A stream that lasted this long resets the attempt count.</param>
        /// <exception cref="ArgumentException">A value out of its range.</exception>
        public BackoffPolicy(double initialSeconds, double maxSeconds, double multiplier, double jitter,
            double stableSeconds)
        {
            if (!(initialSeconds > 0))
            {
                throw new ArgumentException("initial back-off must be > 0 s, got " + initialSeconds, "initialSeconds");
            }
            if (!(maxSeconds >= initialSeconds))
            {
                throw new ArgumentException("maximum back-off " + maxSeconds + " s is below the initial "
                    + initialSeconds + " s", "maxSeconds");
            }
            if (!(multiplier >= 1))
            {
                throw new ArgumentException("back-off multiplier must be >= 1, got " + multiplier, "multiplier");
            }
            if (!(jitter >= 0 && jitter <= 1))
            {
                throw new ArgumentException("back-off jitter must be within 0..1, got " + jitter, "jitter");
            }
            if (!(stableSeconds >= 0))
            {
                throw new ArgumentException("stable time must be >= 0 s, got " + stableSeconds, "stableSeconds");
            }
            InitialSeconds = initialSeconds;
            MaxSeconds = maxSeconds;
            Multiplier = multiplier;
            Jitter = jitter;
            StableSeconds = stableSeconds;
        }

        /// <summary>Delay before the first retry, before jitter.</summary>
        public double InitialSeconds { get; }

        /// <summary>Cap on every delay.</summary>
        public double MaxSeconds { get; }

        /// <summary>Growth per failed attempt.</summary>
        public double Multiplier { get; }

        /// <summary>Spread as a fraction of the delay.</summary>
        public double Jitter { get; }

        /// <summary>A stream that lasted this long counts as healthy: the next failure starts over at attempt 1.</summary>
        public double StableSeconds { get; }

        /// <summary>The delay before the first retry after <paramref name="attempt"/> failures
        /// (1-based) before jitter: min(max, initial * multiplier^(attempt - 1)).</summary>
        public double BaseDelaySeconds(int attempt)
        {
            if (attempt < 1)
            {
                throw new ArgumentOutOfRangeException("attempt", attempt, "attempts count from 1");
            }
            double delay = InitialSeconds * Math.Pow(Multiplier, attempt - 1);
            return double.IsInfinity(delay) || delay > MaxSeconds ? MaxSeconds : delay;
        }

        /// <summary>
        /// The jittered delay: base * (1 + jitter * (2r - 1)) for r from <paramref name="random"/>,
        /// capped at <see cref="MaxSeconds"/>.
        /// </summary>
        public double DelaySeconds(int attempt, IRandomSource random)
        {
            if (random == null)
            {
                throw new ArgumentNullException("random");
            }
            double r = random.NextDouble();
            double delay = BaseDelaySeconds(attempt) * (1 + Jitter * (2 * r - 1));
            return Math.Min(MaxSeconds, Math.Max(0, delay));
        }
    }
}
