// REFERENCE STUB - not ML-Agents. The custom side-channel API of com.unity.ml-agents 2.x (assembly
// Unity.ML-Agents; sources in Unity-Technologies/ml-agents, folder
// com.unity.ml-agents/Runtime/SideChannels/); every body throws. See ../README.md.

using System;

namespace Unity.MLAgents.SideChannels
{
    // Source: com.unity.ml-agents/Runtime/SideChannels/SideChannel.cs: `public Guid ChannelId
    // { get; protected set; }`, `protected abstract void OnMessageReceived(IncomingMessage msg)`,
    // `protected void QueueMessageToSend(OutgoingMessage msg)`.
    public abstract class SideChannel
    {
        public Guid ChannelId { get { throw new NotImplementedException(); } protected set { throw new NotImplementedException(); } }
        protected abstract void OnMessageReceived(IncomingMessage msg);
        protected void QueueMessageToSend(OutgoingMessage msg) { throw new NotImplementedException(); }
    }

    // Source: com.unity.ml-agents/Runtime/SideChannels/IncomingMessage.cs:
    // `public class IncomingMessage : IDisposable`, `public byte[] GetRawBytes()`.
    public class IncomingMessage : IDisposable
    {
        public IncomingMessage(byte[] data) { throw new NotImplementedException(); }
        public byte[] GetRawBytes() { throw new NotImplementedException(); }
        public void Dispose() { throw new NotImplementedException(); }
    }

    // Source: com.unity.ml-agents/Runtime/SideChannels/OutgoingMessage.cs:
    // `public class OutgoingMessage : IDisposable`, `public void SetRawBytes(byte[] data)`.
    public class OutgoingMessage : IDisposable
    {
        public OutgoingMessage() { throw new NotImplementedException(); }
        public void SetRawBytes(byte[] data) { throw new NotImplementedException(); }
        public void Dispose() { throw new NotImplementedException(); }
    }

    // Source: com.unity.ml-agents/Runtime/SideChannels/SideChannelManager.cs:
    // `public static void RegisterSideChannel(SideChannel sideChannel)` (throws when the id is already
    // registered) and `public static void UnregisterSideChannel(SideChannel sideChannel)`.
    public static class SideChannelManager
    {
        public static void RegisterSideChannel(SideChannel sideChannel) { throw new NotImplementedException(); }
        public static void UnregisterSideChannel(SideChannel sideChannel) { throw new NotImplementedException(); }
    }
}
