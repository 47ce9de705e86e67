using System;
using System.Globalization;

namespace StyleBridge.Core
{
    /// <summary>
    /// Connection rules that the Python server and client apply too, kept free of gRPC types so that
    /// they run (and are tested against tests/vectors/bridge_rules.json) under Mono: which gRPC status
    /// codes are worth a retry, and how large a message the client must accept.
    /// </summary>
    public static class BridgeRules
    {
        /// <summary>Room for a message's non-pixel fields (python: <c>server._MESSAGE_MARGIN_BYTES</c>).</summary>
        public const long MessageMarginBytes = 1024 * 1024;

        /// <summary>
        /// The client's receive limit unless configured: a 4K RGBA frame (33 MB) plus margin. Grpc.Core's
        /// own default, 4 MiB, is below a 1080p frame (8.3 MB), the server's default max_frame_bytes.
        /// </summary>
        public const int DefaultMaxReceiveMessageBytes = 64 * 1024 * 1024;

        /// <summary>
        /// The largest message the server may send: a stylized frame or a model chunk, plus margin
        /// (python: <c>stylebridge.bridge.server.grpc_server_options</c>, max_send_message_length).
        /// </summary>
        public static long ServerSendLimitBytes(long maxFrameBytes, long modelChunkBytes)
        {
            return Math.Max(maxFrameBytes, modelChunkBytes) + MessageMarginBytes;
        }

        /// <summary>
        /// null when a client that accepts <paramref name="receiveLimitBytes"/> can take everything a
        /// server with these limits may send; else the error to show (it names the setting to raise).
        /// </summary>
        public static string CheckReceiveLimit(long maxFrameBytes, long modelChunkBytes, long receiveLimitBytes)
        {
            long needed = ServerSendLimitBytes(maxFrameBytes, modelChunkBytes);
            if (receiveLimitBytes >= needed)
            {
                return null;
            }
            return string.Format(CultureInfo.InvariantCulture,
                "the server may send messages of up to {0} bytes (max_frame_bytes {1}, model_chunk_bytes {2}) but "
                + "this client accepts {3}; raise BridgeSettings.MaxReceiveMessageBytes or lower the server's limits",
                needed, maxFrameBytes, modelChunkBytes, receiveLimitBytes);
        }

        /// <summary>
        /// Whether a call that failed with gRPC status <paramref name="statusCode"/> may succeed later:
        /// the server is down, busy or restarting. A version mismatch, a bad token or an invalid request
        /// cannot pass by waiting (python: <c>stylebridge.client.reconnect.RETRYABLE_CODES</c>).
        /// </summary>
        public static bool IsRetryable(int statusCode)
        {
            switch (statusCode)
            {
                case 1:  // CANCELLED
                case 2:  // UNKNOWN
                case 4:  // DEADLINE_EXCEEDED
                case 8:  // RESOURCE_EXHAUSTED
                case 10: // ABORTED
                case 13: // INTERNAL
                case 14: // UNAVAILABLE
                    return true;
                default:
                    return false;
            }
        }
    }
}
