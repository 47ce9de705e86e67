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
