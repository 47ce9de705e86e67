using System;
using System.Collections.Generic;
using NUnit.Framework;
using StyleBridge.Core;

namespace StyleBridge.Tests.EditMode
{
    public class SessionStateMachineTests
    {
        /// <summary>Returns the given values in turn (then repeats the last).</summary>
        private sealed class FixedRandom : IRandomSource
        {
            private readonly double[] _values;
            private int _next;

            public FixedRandom(params double[] values)
            {
                _values = values;
            }

            public double NextDouble()
            {
                double v = _values[Math.Min(_next, _values.Length - 1)];
                _next++;
                return v;
            }
        }

        private static readonly BackoffPolicy Policy = new BackoffPolicy(0.5, 4, 2, 0.2, 10);

        private static SessionStateMachine Streaming(double now, IRandomSource random = null)
        {
            var m = new SessionStateMachine(Policy, random ?? new FixedRandom(0.5));
            Assert.IsTrue(m.Connect(now));
            Assert.IsTrue(m.OnChannelReady(now));
            Assert.IsTrue(m.OnHelloAccepted("s-1", now));
            return m;
        }

        [Test]
        public void HappyPathReachesStreamingAndReportsEveryChange()
        {
            var m = new SessionStateMachine(Policy, new FixedRandom(0.5));
            var changes = new List<string>();
            m.StateChanged += (from, to) => changes.Add(from + ">" + to);
            Assert.AreEqual(SessionState.Disconnected, m.State);
            m.Connect(0);
            m.OnChannelReady(0.1);
            m.OnHelloAccepted("abc", 0.2);
            Assert.AreEqual(SessionState.Streaming, m.State);
            Assert.AreEqual("abc", m.SessionId);
            Assert.AreEqual("Disconnected>Connecting,Connecting>Hello,Hello>Streaming",
                string.Join(",", changes.ToArray()));
        }

        [Test]
        public void FailuresBackOffExponentiallyUpToTheCap()
        {
            var m = Streaming(0);
            var delays = new List<double>();
            double now = 1;
            for (int i = 0; i < 6; i++)
            {
                Assert.IsTrue(m.OnConnectionLost("unavailable", now));
                Assert.AreEqual(SessionState.Reconnecting, m.State);
                Assert.AreEqual("", m.SessionId, "a lost session's id is gone");
                delays.Add(m.RetryAtSeconds - now);
                Assert.IsFalse(m.Poll(m.RetryAtSeconds - 0.001), "not before the delay");
                Assert.IsTrue(m.Poll(m.RetryAtSeconds));
                Assert.AreEqual(SessionState.Connecting, m.State);
                now = m.RetryAtSeconds;
            }
            // Jitter 0.5 -> no spread: 0.5, 1, 2, 4 (cap), 4, 4.
            double[] expected = { 0.5, 1, 2, 4, 4, 4 };
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.AreEqual(expected[i], delays[i], 1e-9, "delay " + i);
            }
            Assert.AreEqual(6, m.Attempt);
            Assert.AreEqual("unavailable", m.LastError);
        }

        [TestCase(0.0, 0.4)]
        [TestCase(0.999999, 0.6)]
        [TestCase(0.25, 0.45)]
        public void JitterSpreadsTheFirstDelay(double random, double delay)
        {
            var m = Streaming(0, new FixedRandom(random));
            m.OnConnectionLost("x", 1);
            Assert.AreEqual(delay, m.RetryAtSeconds - 1, 1e-5);
        }

        [Test]
        public void JitterNeverExceedsTheCap()
        {
            var policy = new BackoffPolicy(1, 8, 2, 0.5, 10);
            var random = new FixedRandom(0.999999);
            for (int attempt = 1; attempt < 12; attempt++)
            {
                Assert.IsTrue(policy.DelaySeconds(attempt, random) <= 8.0);
            }
            Assert.AreEqual(8.0, policy.BaseDelaySeconds(1000));
        }

        [Test]
        public void AStableStreamStartsTheBackOffOver()
        {
            var m = Streaming(0);
            m.OnConnectionLost("a", 1);
            m.Poll(100);
            m.OnChannelReady(100);
            m.OnHelloAccepted("s-2", 100);
            m.OnConnectionLost("b", 101);
            Assert.AreEqual(2, m.Attempt, "streamed 1 s only: still backing off");
            m.Poll(1000);
            m.OnChannelReady(1000);
            m.OnHelloAccepted("s-3", 1000);
            m.OnConnectionLost("c", 1010);
            Assert.AreEqual(1, m.Attempt, "streamed 10 s: starts over");
            Assert.AreEqual(1010.5, m.RetryAtSeconds, 1e-9);
        }

        [Test]
        public void AFinalRefusalClosesWithTheReason()
        {
            var m = new SessionStateMachine(Policy, new FixedRandom(0.5));
            m.Connect(0);
            m.OnChannelReady(0);
            Assert.IsTrue(m.OnHelloRefused("protocol version 9 not supported", false, 0));
            Assert.AreEqual(SessionState.Closed, m.State);
            Assert.AreEqual("protocol version 9 not supported", m.LastError);
            Assert.IsFalse(m.Poll(1000), "a closed session never retries by itself");
            Assert.IsTrue(m.Connect(1000), "the user may try again");
            Assert.AreEqual(SessionState.Connecting, m.State);
            Assert.AreEqual("", m.LastError);
        }

        [Test]
        public void ARetryableRefusalBacksOff()
        {
            var m = new SessionStateMachine(Policy, new FixedRandom(0.5));
            m.Connect(0);
            m.OnChannelReady(0);
            Assert.IsTrue(m.OnHelloRefused("server busy", true, 3));
            Assert.AreEqual(SessionState.Reconnecting, m.State);
            Assert.AreEqual(0.5, m.SecondsUntilRetry(3), 1e-9);
        }

        [Test]
        public void EventsThatDoNotFitTheStateAreIgnored()
        {
            var m = new SessionStateMachine(Policy, new FixedRandom(0.5));
            Assert.IsFalse(m.OnChannelReady(0));
            Assert.IsFalse(m.OnHelloAccepted("x", 0));
            Assert.IsFalse(m.OnConnectionLost("x", 0));
            Assert.IsFalse(m.Poll(0));
            Assert.AreEqual(SessionState.Disconnected, m.State);
            m.Connect(0);
            Assert.IsFalse(m.Connect(0), "already connecting");
            Assert.IsFalse(m.OnHelloAccepted("x", 0), "no Hello before the channel is ready");
            Assert.IsTrue(m.Close());
            Assert.IsFalse(m.Close());
            Assert.IsFalse(m.OnConnectionLost("late error", 1), "a closed session ignores late failures");
            Assert.AreEqual(SessionState.Closed, m.State);
        }

        [Test]
        public void CloseWhileReconnectingStopsRetrying()
        {
            var m = Streaming(0);
            m.OnConnectionLost("x", 1);
            m.Close();
            Assert.IsFalse(m.Poll(1e9));
            Assert.AreEqual(0.0, m.SecondsUntilRetry(0));
        }

        [Test]
        public void BadPoliciesAreRefused()
        {
            Assert.Throws<ArgumentException>(() => new BackoffPolicy(0, 1, 2, 0.1, 1));
            Assert.Throws<ArgumentException>(() => new BackoffPolicy(2, 1, 2, 0.1, 1));
            Assert.Throws<ArgumentException>(() => new BackoffPolicy(1, 2, 0.5, 0.1, 1));
            Assert.Throws<ArgumentException>(() => new BackoffPolicy(1, 2, 2, 1.5, 1));
            Assert.Throws<ArgumentException>(() => new BackoffPolicy(1, 2, 2, 0.1, -1));
            Assert.Throws<ArgumentOutOfRangeException>(() => Policy.BaseDelaySeconds(0));
        }
    }
}
