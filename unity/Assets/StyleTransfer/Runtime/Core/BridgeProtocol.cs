using System.Globalization;

namespace StyleBridge.Core
{
    /// <summary>The protocol version this client speaks, checked at Hello (same rule as the Python side).</summary>
    public static class BridgeProtocol
    {
        /// <summary>This client's PROTOCOL_VERSION (python: <c>stylebridge.PROTOCOL_VERSION</c>).</summary>
        public const uint Version = 1;

        /// <summary>
        /// The client program and version sent in Hello (<c>client_name</c>): the package's name and its
        /// package.json version.
        /// </summary>
        public const string ClientName = "com.stylebridge.styletransfer/0.1.0";

        /// <summary>Full gRPC service name of the bridge (protos/stylebridge/v1/bridge.proto).</summary>
        public const string ServiceName = "stylebridge.v1.Bridge";

        /// <summary>
        /// Checks the version the server answered with. A different version means the messages may
        /// not mean the same thing, so the session is refused rather than guessed at.
        /// </summary>
        /// <returns>null when compatible, else the error to show (it says what to update).</returns>
        public static string CheckServerVersion(uint server)
        {
            if (server == 0)
            {
                return "the server sent no protocol_version (0); update the StyleBridge server";
            }
            if (server == Version)
            {
                return null;
            }
            string older = server < Version ? "server" : "Unity package";
            return string.Format(CultureInfo.InvariantCulture,
                "protocol version mismatch: this client speaks {0}, the server speaks {1}; update the {2} "
                + "so that both speak version {3}", Version, server, older, System.Math.Max(server, Version));
        }
    }
}
