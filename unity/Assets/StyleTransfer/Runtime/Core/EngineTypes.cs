namespace StyleBridge.Inference
{
    // Engine-independent (no UnityEngine): kept in Core so that the Mono tests can pin their numbers
    // against the protocol's (tests/vectors/bridge_rules.json). The namespace stays the engines'.

    /// <summary>Which Unity inference package runs the models.</summary>
    public enum EngineFamily
    {
        /// <summary>com.unity.barracuda (the default; imports ONNX at runtime).</summary>
        Barracuda = 1,
        /// <summary>com.unity.sentis 1.5+ (behind STYLEBRIDGE_SENTIS; no runtime ONNX import).</summary>
        Sentis = 2,
    }

    /// <summary>
    /// How an engine time was measured; the values equal the protocol's <c>TimingMethod</c>
    /// numbers so that a timing never travels without its method.
    /// </summary>
    public enum EngineTimingMethod
    {
        /// <summary>Not measured (the frame was not sampled).</summary>
        None = 0,
        /// <summary>Stopwatch around Execute only: scheduling, a lower bound (never used for reports).</summary>
        ScheduleOnly = 1,
        /// <summary>Execute plus a blocking download of the whole output (GPU workers).</summary>
        BlockingReadback = 2,
        /// <summary>Execute to the completion of an asynchronous readback.</summary>
        AsyncReadback = 3,
        /// <summary>A CPU worker run to completion (Execute plus output download).</summary>
        Synchronous = 4,
    }

    /// <summary>One frame's engine time, or <see cref="NotMeasured"/>.</summary>
    public struct EngineTimingSample
    {
        /// <summary>Creates a measured sample.</summary>
        public EngineTimingSample(double milliseconds, EngineTimingMethod method)
        {
            Milliseconds = milliseconds;
            Method = method;
        }

        /// <summary>A frame that was not timed.</summary>
        public static EngineTimingSample NotMeasured
        {
            get { return new EngineTimingSample(0, EngineTimingMethod.None); }
        }

        /// <summary>Inference milliseconds (0 when not measured).</summary>
        public double Milliseconds { get; }

        /// <summary>How <see cref="Milliseconds"/> was measured.</summary>
        public EngineTimingMethod Method { get; }

        /// <summary>True when this frame was timed.</summary>
        public bool Measured
        {
            get { return Method != EngineTimingMethod.None; }
        }
    }
}
