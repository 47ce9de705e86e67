using System;
using System.Collections.Generic;
using System.Threading;
using NUnit.Framework;
using StyleBridge.Core;

namespace StyleBridge.Tests.EditMode
{
    public class TimingStatsTests
    {
        private static bool Close(double got, double want)
        {
            return got == want || Math.Abs(got - want) <= 1e-12 * Math.Max(Math.Abs(got), Math.Abs(want));
        }

        [Test]
        public void SharedVectors()
        {
            object doc = Vectors.Load("timing_stats.json");
            List<object> cases = Json.Arr(doc, "cases");
            List<object> sets = Json.Arr(doc, "percentiles");
            Assert.IsTrue(cases.Count >= 10 && sets.Count >= 4, "timing_stats.json looks truncated");
            var failures = new List<string>();
            foreach (object c in cases)
            {
                var stats = new TimingStats((int)Json.Int(c, "window"));
                foreach (object sample in Json.Arr(c, "samples"))
                {
                    stats.Add(Json.AsNumber(sample, "sample"));
                }
                TimingSummary s = stats.Summary();
                object e = Json.Get(c, "expect");
                string name = Json.Str(c, "name");
                if (s.Count != Json.Int(e, "count") || s.TotalCount != Json.Int(e, "total_count"))
                {
                    failures.Add(name + ": count " + s.Count + "/" + s.TotalCount);
                }
                var got = new[] { s.MeanMs, s.P50Ms, s.P90Ms, s.P99Ms, s.LastMs };
                var keys = new[] { "mean_ms", "p50_ms", "p90_ms", "p99_ms", "last_ms" };
                for (int i = 0; i < keys.Length; i++)
                {
                    if (!Close(got[i], Json.Num(e, keys[i])))
                    {
                        failures.Add(name + ": " + keys[i] + " " + got[i].ToString("R") + ", expected "
                            + Json.Num(e, keys[i]).ToString("R"));
                    }
                }
            }
            foreach (object set in sets)
            {
                var values = new List<double>();
                foreach (object v in Json.Arr(set, "values"))
                {
                    values.Add(Json.AsNumber(v, "value"));
                }
                List<object> percents = Json.Arr(set, "percents");
                List<object> expected = Json.Arr(set, "expected");
                for (int i = 0; i < percents.Count; i++)
                {
                    double p = Json.AsNumber(percents[i], "percent");
                    double got = TimingStats.Percentile(values, p);
                    double want = Json.AsNumber(expected[i], "expected");
                    // numpy's lerp is reproduced operation for operation: demand the same bits.
                    if (got != want)
                    {
                        failures.Add(Json.Str(set, "name") + ": p" + p + " " + got.ToString("R") + ", numpy "
                            + want.ToString("R"));
                    }
                }
            }
            if (failures.Count > 0)
            {
                Assert.Fail(failures.Count + " timing mismatches:\n" + string.Join("\n", failures.ToArray()));
            }
        }

        [Test]
        public void WindowSlidesButTheTotalKeepsCounting()
        {
            var stats = new TimingStats(3);
            foreach (double v in new[] { 100.0, 1.0, 2.0, 3.0 })
            {
                stats.Add(v);
            }
            TimingSummary s = stats.Summary();
            Assert.AreEqual(3, s.Count);
            Assert.AreEqual(4L, s.TotalCount);
            Assert.AreEqual(2.0, s.MeanMs, 1e-12);
            Assert.AreEqual(2.0, s.P50Ms, 1e-12);
            Assert.AreEqual(3.0, s.LastMs);
            Assert.AreEqual(2.8, s.P90Ms, 1e-12);
        }

        [Test]
        public void EmptyAndClearedStatsAreZero()
        {
            var stats = new TimingStats();
            Assert.AreEqual(TimingStats.DefaultWindow, stats.Window);
            Assert.AreEqual(0, stats.Summary().Count);
            stats.Add(5);
            stats.Add(double.NaN);
            Assert.AreEqual(1L, stats.TotalCount);
            stats.Clear();
            TimingSummary s = stats.Summary();
            Assert.AreEqual(0, s.Count);
            Assert.AreEqual(0L, s.TotalCount);
            Assert.AreEqual(0.0, s.P99Ms);
        }

        [TestCase(-1.0)]
        [TestCase(100.5)]
        [TestCase(double.NaN)]
        public void PercentileOutsideTheRangeIsRefused(double percent)
        {
            Assert.Throws<ArgumentException>(() => TimingStats.Percentile(new List<double> { 1, 2 }, percent));
        }

        [Test]
        public void BadArgumentsAreRefused()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new TimingStats(0));
            Assert.Throws<ArgumentException>(() => TimingStats.Percentile(new List<double>(), 50));
        }

        [Test]
        public void AddingFromAnotherThreadWhileSummarizingIsSafe()
        {
            var stats = new TimingStats(64);
            var writer = new Thread(() =>
            {
                for (int i = 0; i < 20000; i++)
                {
                    stats.Add(i % 100);
                }
            });
            writer.Start();
            while (writer.IsAlive)
            {
                TimingSummary s = stats.Summary();
                Assert.IsTrue(s.Count <= 64);
                Assert.IsTrue(s.P50Ms >= 0 && s.P99Ms <= 99);
            }
            writer.Join();
            Assert.AreEqual(20000L, stats.TotalCount);
        }
    }
}

namespace StyleBridge.Tests.EditMode
{
    public class RateMeterTests
    {
        [Test]
        public void SharedVectors()
        {
            object doc = Vectors.Load("timing_stats.json");
            List<object> cases = Json.Arr(doc, "rates");
            Assert.IsTrue(cases.Count >= 3, "timing_stats.json has no rate cases");
            var failures = new List<string>();
            foreach (object c in cases)
            {
                var meter = new RateMeter(Json.Num(c, "window_s"));
                foreach (object tick in Json.Arr(c, "ticks"))
                {
                    meter.Tick(Json.AsNumber(tick, "tick"));
                }
                foreach (object query in Json.Arr(c, "queries"))
                {
                    var pair = (List<object>)query;
                    double now = Json.AsNumber(pair[0], "now"), want = Json.AsNumber(pair[1], "rate");
                    double got = meter.Rate(now);
                    if (!(got == want || Math.Abs(got - want) <= 1e-12 * Math.Abs(want)))
                    {
                        failures.Add(Json.Str(c, "name") + ": rate at " + now + " " + got.ToString("R") + ", expected "
                            + want.ToString("R"));
                    }
                }
                if (meter.Total != Json.Int(c, "total"))
                {
                    failures.Add(Json.Str(c, "name") + ": total " + meter.Total);
                }
            }
            if (failures.Count > 0)
            {
                Assert.Fail(string.Join("\n", failures.ToArray()));
            }
        }

        [Test]
        public void SteadyTicksGiveTheirRate()
        {
            var meter = new RateMeter(5);
            for (int i = 0; i <= 30; i++)
            {
                meter.Tick(i / 30.0);
            }
            Assert.AreEqual(30.0, meter.Rate(1.0), 1e-9);
            Assert.AreEqual(31L, meter.Total);
        }

        [Test]
        public void TheRateDecaysWhenTicksStopAndEndsAtZero()
        {
            var meter = new RateMeter(2);
            meter.Tick(0);
            meter.Tick(0.5);
            meter.Tick(1.0);
            Assert.AreEqual(2.0, meter.Rate(1.0), 1e-9);
            Assert.AreEqual(1.0, meter.Rate(2.0), 1e-9, "two intervals over two seconds");
            Assert.AreEqual(0.0, meter.Rate(10.0), "everything left the window");
        }

        [Test]
        public void FewerThanTwoTicksIsZeroAndBadWindowsAreRefused()
        {
            var meter = new RateMeter();
            Assert.AreEqual(0.0, meter.Rate(0));
            meter.Tick(1);
            Assert.AreEqual(0.0, meter.Rate(1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new RateMeter(0));
        }
    }
}
