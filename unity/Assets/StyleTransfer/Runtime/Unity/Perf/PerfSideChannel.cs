#if STYLEBRIDGE_MLAGENTS
using System;
using System.Collections.Generic;
using Google.Protobuf;
using StyleBridge.Protocol.V1;
using Unity.MLAgents.SideChannels;

namespace StyleBridge.Perf
{
    /// <summary>
    /// The StyleBridge perf-test side channel (protos/stylebridge/v1/perf.proto): every payload is one
    /// serialized <c>PerfToPlayer</c> (from <c>stylebridge perf-test</c>) or <c>PerfFromPlayer</c> (to it).
    /// The UUID must match the Python harness (<c>stylebridge.harness.protocol.PERF_CHANNEL_ID</c>).
    /// Incoming messages are queued; <see cref="PerfRunner"/> takes them on the main thread.
    /// </summary>
    public sealed class PerfSideChannel : SideChannel
    {
        /// <summary>The channel id shared with the Python harness.</summary>
        public static readonly Guid Id = new Guid("6f3b0c8e-2d4a-4c55-9a61-5b7e1f0c9d27");

        /// <summary>Major version of the side-channel protocol this player speaks.</summary>
        public const uint ProtocolVersion = 1;

        private readonly Queue<PerfToPlayer> m_Inbox = new Queue<PerfToPlayer>();

        /// <summary>Creates the channel (register it with <c>SideChannelManager.RegisterSideChannel</c>).</summary>
        public PerfSideChannel()
        {
            ChannelId = Id;
        }

        /// <summary>Messages that could not be parsed (answered as case errors when they carry a case).</summary>
        public int Malformed { get; private set; }

        /// <summary>Takes the next message from the harness, if any.</summary>
        public bool TryTake(out PerfToPlayer message)
        {
            if (m_Inbox.Count == 0)
            {
                message = null;
                return false;
            }
            message = m_Inbox.Dequeue();
            return true;
        }

        /// <summary>Queues a message for the harness (sent with the next academy step).</summary>
        public void Send(PerfFromPlayer message)
        {
            message.ProtocolVersion = ProtocolVersion;
            using (var outgoing = new OutgoingMessage())
            {
                outgoing.SetRawBytes(message.ToByteArray());
                QueueMessageToSend(outgoing);
            }
        }

        /// <inheritdoc />
        protected override void OnMessageReceived(IncomingMessage msg)
        {
            PerfToPlayer message;
            try
            {
                message = PerfToPlayer.Parser.ParseFrom(msg.GetRawBytes());
            }
            catch (InvalidProtocolBufferException)
            {
                Malformed++;
                return;
            }
            m_Inbox.Enqueue(message);
        }
    }
}
#endif
