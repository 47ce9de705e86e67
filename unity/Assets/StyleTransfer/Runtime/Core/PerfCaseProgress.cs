using System;

namespace StyleBridge.Core
{
    /// <summary>What one academy step's frame of a perf case was.</summary>
    public enum PerfFrameKind
    {
        /// <summary>A warm-up frame: run, not recorded.</summary>
        Warmup,
        /// <summary>A measured frame: its engine time goes into the result.</summary>
        Measured,
        /// <summary>The first measured frame of a case that sends parity: also read back its input and output.</summary>
        MeasuredWithParity,
    }

    /// <summary>
    /// The frame sequence of one <c>PerfRunCase</c> on the player: one frame per academy step, warm-up frames
    /// first, then measured ones, and the result in the step of the last frame, or later once the parity
    /// readbacks have arrived. The same sequence as the Python stand-in player (tests/vectors/bridge_rules.json,
    /// <c>perf_sequence</c>); the harness budgets warm-up + measured + 20 steps for it.
    /// </summary>
    public sealed class PerfCaseProgress
    {
        private readonly int m_Warmup;
        private readonly int m_Measured;
        private readonly bool m_SendParity;

        /// <exception cref="ArgumentOutOfRangeException">Negative frame counts, or no measured frame.</exception>
        public PerfCaseProgress(int warmupFrames, int measuredFrames, bool sendParity)
        {
            if (warmupFrames < 0 || measuredFrames < 1)
            {
                throw new ArgumentOutOfRangeException("measuredFrames",
                    "a case needs warm-up frames >= 0 and measured frames >= 1, got " + warmupFrames + " and "
                    + measuredFrames);
            }
            m_Warmup = warmupFrames;
            m_Measured = measuredFrames;
            m_SendParity = sendParity;
        }

        /// <summary>Frames run so far.</summary>
        public int Frame { get; private set; }

        /// <summary>True once every warm-up and measured frame has run.</summary>
        public bool AllFramesRan
        {
            get { return Frame >= m_Warmup + m_Measured; }
        }

        /// <summary>Records that this step's frame ran; says what kind it was.</summary>
        /// <exception cref="InvalidOperationException">Every frame has already run.</exception>
        public PerfFrameKind FrameRan()
        {
            if (AllFramesRan)
            {
                throw new InvalidOperationException("the case already ran its " + (m_Warmup + m_Measured) + " frames");
            }
            int index = Frame++;
            if (index < m_Warmup)
            {
                return PerfFrameKind.Warmup;
            }
            return m_SendParity && index == m_Warmup ? PerfFrameKind.MeasuredWithParity : PerfFrameKind.Measured;
        }

        /// <summary>Whether the result can go now: all frames ran and no parity readback is pending.</summary>
        public bool ReadyToReport(int parityReadbacksPending)
        {
            return AllFramesRan && parityReadbacksPending == 0;
        }
    }
}
