using System;

namespace StyleBridge.Bridge
{
    /// <summary>
    /// Creates the gRPC connection where com.unity.ml-agents is installed (STYLEBRIDGE_MLAGENTS, set by
    /// the asmdef's versionDefines) and ships Grpc.Core (the editor and desktop players, as in ML-Agents'
    /// own communicator); elsewhere the bridge is unavailable and says so.
    /// </summary>
    internal static class BridgeConnectionFactory
    {
        /// <summary>Why there is no bridge in this build (shown when <see cref="Supported"/> is false).</summary>
        public const string Unavailable =
            "the StyleBridge connection needs Grpc.Core from com.unity.ml-agents (2.x), which ships it for the "
            + "editor and desktop players only: install com.unity.ml-agents (see the README); stylization "
            + "runs without the bridge";

#if STYLEBRIDGE_MLAGENTS && (UNITY_EDITOR || UNITY_STANDALONE)
        public static bool Supported
        {
            get { return true; }
        }

        public static IBridgeConnection Create(BridgeSettings settings, ClientDescription client)
        {
            return new BridgeConnection(settings, client);
        }
#else
        public static bool Supported
        {
            get { return false; }
        }

        public static IBridgeConnection Create(BridgeSettings settings, ClientDescription client)
        {
            throw new PlatformNotSupportedException(Unavailable);
        }
#endif
    }
}
