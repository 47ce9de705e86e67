using System.Collections.Generic;
using NUnit.Framework;
using StyleBridge.Core;
using StyleBridge.Inference;

namespace StyleBridge.Tests.EditMode
{
    /// <summary>
    /// The bridge rules against tests/vectors/bridge_rules.json, written from the Python server and
    /// reference client (tools/make_bridge_vectors.py) and run by pytest too.
    /// </summary>
    public class BridgeRulesTests
    {
        private sealed class OneValue : IRandomSource
        {
            private readonly double m_Value;

            public OneValue(double value)
            {
                m_Value = value;
            }

            public double NextDouble()
            {
                return m_Value;
            }
        }

        private static object Doc()
        {
            return Vectors.Load("bridge_rules.json");
        }

        [Test]
        public void BackoffMatchesPython()
        {
            Dictionary<string, object> backoff = Json.Obj(Doc(), "backoff");
            BackoffPolicy policy = BackoffPolicy.Default;
            Assert.AreEqual(Json.Num(backoff, "initial_s"), policy.InitialSeconds);
            Assert.AreEqual(Json.Num(backoff, "max_s"), policy.MaxSeconds);
            Assert.AreEqual(Json.Num(backoff, "multiplier"), policy.Multiplier);
            Assert.AreEqual(Json.Num(backoff, "jitter"), policy.Jitter);
            Assert.AreEqual(Json.Num(backoff, "stable_s"), policy.StableSeconds);
            List<object> cases = Json.Arr(backoff, "cases");
            Assert.GreaterOrEqual(cases.Count, 40);
            foreach (object c in cases)
            {
                int attempt = (int)Json.Int(c, "attempt");
                double random = Json.Num(c, "random");
                string what = "attempt " + attempt + ", random " + random;
                Assert.AreEqual(Json.Num(c, "base_delay_s"), policy.BaseDelaySeconds(attempt), 1e-9, what);
                Assert.AreEqual(Json.Num(c, "delay_s"), policy.DelaySeconds(attempt, new OneValue(random)), 1e-9, what);
            }
        }

        [Test]
        public void RetriedStatusCodesMatchPython()
        {
            List<object> codes = Json.Arr(Doc(), "retryable");
            Assert.AreEqual(17, codes.Count, "every gRPC status code, 0..16");
            foreach (object c in codes)
            {
                Assert.AreEqual(Json.Bool(c, "retried"), BridgeRules.IsRetryable((int)Json.Int(c, "code")),
                    Json.Str(c, "name"));
            }
        }

        [Test]
        public void SessionHandlingMatchesThePythonReconnectLoop()
        {
            Dictionary<string, object> session = Json.Obj(Doc(), "session");
            double random = Json.Num(session, "random");
            List<object> scenarios = Json.Arr(session, "scenarios");
            Assert.GreaterOrEqual(scenarios.Count, 5);
            foreach (object scenario in scenarios)
            {
                string name = Json.Str(scenario, "name");
                var machine = new SessionStateMachine(BackoffPolicy.Default, new OneValue(random));
                double now = 100;
                Assert.IsTrue(machine.Connect(now), name);
                foreach (object step in Json.Arr(scenario, "steps"))
                {
                    Assert.AreEqual(SessionState.Connecting, machine.State, name);
                    Assert.IsTrue(machine.OnChannelReady(now), name);
                    object streamed = ((Dictionary<string, object>)step)["streamed_s"];
                    if (streamed == null)
                    {
                        // Failed before a session opened: Hello refused (or the call failed).
                        Assert.IsTrue(machine.OnHelloRefused("refused", Json.Bool(step, "retryable"), now), name);
                    }
                    else
                    {
                        Assert.IsTrue(Json.Bool(step, "retryable"), name + ": a lost stream is always retried");
                        Assert.IsTrue(machine.OnHelloAccepted("s", now), name);
                        now += Json.AsNumber(streamed, name);
                        Assert.IsTrue(machine.OnConnectionLost("lost", now), name);
                    }
                    if (Json.Bool(step, "closed"))
                    {
                        Assert.AreEqual(SessionState.Closed, machine.State, name);
                        break;
                    }
                    Assert.AreEqual(SessionState.Reconnecting, machine.State, name);
                    Assert.AreEqual(Json.Int(step, "attempt"), (long)machine.Attempt, name);
                    Assert.AreEqual(Json.Num(step, "delay_s"), machine.RetryAtSeconds - now, 1e-9, name);
                    now = machine.RetryAtSeconds;
                    Assert.IsTrue(machine.Poll(now), name);
                }
            }
        }

        [Test]
        public void ProtocolVersionRuleMatchesPython()
        {
            Dictionary<string, object> rule = Json.Obj(Doc(), "protocol_version");
            Assert.AreEqual(Json.Int(rule, "client"), (long)BridgeProtocol.Version);
            foreach (object c in Json.Arr(rule, "cases"))
            {
                uint server = (uint)Json.Int(c, "server");
                string error = BridgeProtocol.CheckServerVersion(server);
                Assert.AreEqual(Json.Bool(c, "compatible"), error == null, "server " + server);
                string update = Json.Str(c, "update");
                if (update.Length > 0)
                {
                    // Python's "client" is this Unity package.
                    StringAssert.Contains(update == "client" ? "Unity package" : "server", error);
                }
            }
        }

        [Test]
        public void ReceiveLimitCoversWhatTheServerMaySend()
        {
            foreach (object c in Json.Arr(Doc(), "receive_limit"))
            {
                long frame = Json.Int(c, "max_frame_bytes"), chunk = Json.Int(c, "model_chunk_bytes");
                long send = Json.Int(c, "server_send_limit");
                Assert.AreEqual(send, BridgeRules.ServerSendLimitBytes(frame, chunk));
                Assert.IsNull(BridgeRules.CheckReceiveLimit(frame, chunk, send));
                StringAssert.Contains("MaxReceiveMessageBytes", BridgeRules.CheckReceiveLimit(frame, chunk, send - 1));
            }
            // The default covers the server's defaults (the first case) and a 4K frame (the second).
            List<object> cases = Json.Arr(Doc(), "receive_limit");
            Assert.GreaterOrEqual((long)BridgeRules.DefaultMaxReceiveMessageBytes, Json.Int(cases[1], "server_send_limit"));
        }

        [Test]
        public void EnumNumbersMatchTheProtocol()
        {
            Dictionary<string, object> enums = Json.Obj(Doc(), "enums");
            AssertNumber(enums, "EngineKind", "ENGINE_KIND_BARRACUDA", (int)EngineFamily.Barracuda);
            AssertNumber(enums, "EngineKind", "ENGINE_KIND_SENTIS", (int)EngineFamily.Sentis);
            AssertNumber(enums, "PixelFormat", "PIXEL_FORMAT_RGB8", (int)WirePixelFormat.Rgb8);
            AssertNumber(enums, "PixelFormat", "PIXEL_FORMAT_RGBA8", (int)WirePixelFormat.Rgba8);
            AssertNumber(enums, "TimingMethod", "TIMING_METHOD_UNSPECIFIED", (int)EngineTimingMethod.None);
            AssertNumber(enums, "TimingMethod", "TIMING_METHOD_SCHEDULE_ONLY", (int)EngineTimingMethod.ScheduleOnly);
            AssertNumber(enums, "TimingMethod", "TIMING_METHOD_BLOCKING_READBACK", (int)EngineTimingMethod.BlockingReadback);
            AssertNumber(enums, "TimingMethod", "TIMING_METHOD_ASYNC_READBACK", (int)EngineTimingMethod.AsyncReadback);
            AssertNumber(enums, "TimingMethod", "TIMING_METHOD_SYNCHRONOUS", (int)EngineTimingMethod.Synchronous);
            AssertNumber(enums, "AckStatus", "ACK_STATUS_ACTIVE", (int)SwapAckStatus.Active);
            AssertNumber(enums, "AckStatus", "ACK_STATUS_ROLLED_BACK", (int)SwapAckStatus.RolledBack);
        }

        [Test]
        public void PerfCaseSequenceMatchesTheStandinPlayer()
        {
            Dictionary<string, object> perf = Json.Obj(Doc(), "perf_sequence");
            Assert.AreEqual(Json.Str(perf, "channel_id"), "6f3b0c8e-2d4a-4c55-9a61-5b7e1f0c9d27");
            List<object> cases = Json.Arr(perf, "cases");
            Assert.GreaterOrEqual(cases.Count, 3);
            foreach (object c in cases)
            {
                int warmup = (int)Json.Int(c, "warmup"), measured = (int)Json.Int(c, "measured");
                bool parity = Json.Bool(c, "parity");
                string name = "warm-up " + warmup + ", measured " + measured + ", parity " + parity;
                List<object> steps = Json.Arr(c, "steps");
                // Step 0 answers RESET with the player info (PerfRunner.OnReset); the case arrives in step 1
                // and its first frame runs in that same step.
                CollectionAssert.AreEqual(new object[] { "player_info" }, (List<object>)steps[0], name);
                var progress = new PerfCaseProgress(warmup, measured, parity);
                int parityRequests = 0, recorded = 0;
                for (int i = 1; i < steps.Count; i++)
                {
                    var sent = new List<object>();
                    if (!progress.AllFramesRan)
                    {
                        PerfFrameKind kind = progress.FrameRan();
                        recorded += kind == PerfFrameKind.Warmup ? 0 : 1;
                        parityRequests += kind == PerfFrameKind.MeasuredWithParity ? 1 : 0;
                        // The stand-in's parity images are ready at once (no readback pending).
                        if (progress.ReadyToReport(0))
                        {
                            sent.Add("case_result");
                        }
                    }
                    CollectionAssert.AreEqual((List<object>)steps[i], sent, name + ", step " + i);
                }
                Assert.AreEqual(measured, recorded, name);
                Assert.AreEqual(parity ? 1 : 0, parityRequests, name);
            }
            // A pending readback holds the result back until it arrives.
            var held = new PerfCaseProgress(0, 1, true);
            Assert.AreEqual(PerfFrameKind.MeasuredWithParity, held.FrameRan());
            Assert.IsFalse(held.ReadyToReport(2));
            Assert.IsTrue(held.ReadyToReport(0));
            Assert.Throws<System.InvalidOperationException>(() => held.FrameRan());
            Assert.Throws<System.ArgumentOutOfRangeException>(() => new PerfCaseProgress(1, 0, false));
        }

        [Test]
        public void ClientNameIsThePackageAndItsVersion()
        {
            Assert.AreEqual(Json.Str(Json.Obj(Doc(), "client"), "client_name"), BridgeProtocol.ClientName);
        }

        private static void AssertNumber(Dictionary<string, object> enums, string enumName, string member, int ours)
        {
            Assert.AreEqual(Json.Int(Json.Obj(enums, enumName), member), (long)ours, enumName + "." + member);
        }
    }
}
