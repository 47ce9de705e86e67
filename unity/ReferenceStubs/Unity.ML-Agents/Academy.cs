// REFERENCE STUB - not ML-Agents. The Academy members the perf-test runner uses (com.unity.ml-agents
// 2.x, com.unity.ml-agents/Runtime/Academy.cs in Unity-Technologies/ml-agents); every body throws.
// See ../README.md.

using System;

namespace Unity.MLAgents
{
    // Source: com.unity.ml-agents/Runtime/Academy.cs: `public static bool IsInitialized { get; }`,
    // `public static Academy Instance { get; }` (lazy singleton) and `public event Action OnEnvironmentReset`
    // (raised when Python sends RESET); `public event Action<int> AgentPreStep` ("Signals to all of the
    // Agents that their step is about to begin", raised once per academy step, from FixedUpdate through
    // AcademyFixedUpdateStepper, with the academy's step count).
    public class Academy : IDisposable
    {
        private Academy() { }
        public static bool IsInitialized { get { throw new NotImplementedException(); } }
        public static Academy Instance { get { throw new NotImplementedException(); } }
        public event Action OnEnvironmentReset { add { throw new NotImplementedException(); } remove { throw new NotImplementedException(); } }
        public event Action<int> AgentPreStep { add { throw new NotImplementedException(); } remove { throw new NotImplementedException(); } }
        public void Dispose() { throw new NotImplementedException(); }
    }
}
