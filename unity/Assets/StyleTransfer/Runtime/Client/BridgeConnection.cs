#if STYLEBRIDGE_MLAGENTS && (UNITY_EDITOR || UNITY_STANDALONE)
using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Grpc.Core;
using StyleBridge.Core;
using StyleBridge.Protocol.V1;
using SessionState = StyleBridge.Core.SessionState;
using WireChunk = StyleBridge.Protocol.V1.ModelChunk;

namespace StyleBridge.Bridge
{
    /// <summary>
    /// The gRPC client of the bridge on its own background thread: Hello, then the Frames duplex
    /// stream and the Models server stream, acks as unary calls, and reconnects with back-off from
    /// Core's <see cref="SessionStateMachine"/>. The game thread only offers frames (newest wins,
    /// through Core's <see cref="LatestSlot{T}"/>), queues acks and drains events: nothing here can
    /// stall a frame when the server is slow or gone.
    /// </summary>
    internal sealed class BridgeConnection : IBridgeConnection
    {
        private const int TakeTimeoutMs = 50;
        private const double AckTimeoutSeconds = 5;

        private readonly BridgeSettings m_Settings;
        private readonly LatestSlot<CapturedFrame> m_Frames = new LatestSlot<CapturedFrame>();
        private readonly ConcurrentQueue<SwapAck> m_Acks = new ConcurrentQueue<SwapAck>();
        private readonly ConcurrentQueue<BridgeEvent> m_Events = new ConcurrentQueue<BridgeEvent>();
        private readonly CancellationTokenSource m_Stop = new CancellationTokenSource();
        private readonly SessionStateMachine m_Machine = new SessionStateMachine();
        private readonly Stopwatch m_Clock = Stopwatch.StartNew();
        private readonly Thread m_Thread;
        private ClientDescription m_Client;
        private BridgeStatus m_Status;
        private long m_FramesSent;

        public BridgeConnection(BridgeSettings settings, ClientDescription client)
        {
            m_Settings = settings;
            m_Client = client;
            m_Status = new BridgeStatus(SessionState.Connecting, settings.Address, "", "", 0, 0, 0, 0);
            m_Thread = new Thread(Run) { IsBackground = true, Name = "StyleBridge network" };
            m_Thread.Start();
        }

        public BridgeStatus Status
        {
            get { return Volatile.Read(ref m_Status); }
        }

        public bool TryDequeue(out BridgeEvent item)
        {
            return m_Events.TryDequeue(out item);
        }

        public void OfferFrame(CapturedFrame frame)
        {
            m_Frames.Put(frame);
        }

        public void SendAck(SwapAck ack)
        {
            m_Acks.Enqueue(ack);
        }

        public void UpdateClient(ClientDescription client)
        {
            Volatile.Write(ref m_Client, client);
        }

        /// <summary>
        /// Stops the thread and waits until it has shut the channel down. Synchronous on purpose, like
        /// ML-Agents' RpcCommunicator (<c>m_Channel.ShutdownAsync().Wait()</c>): Grpc.Core 1.10 can hang or
        /// crash the editor when a domain reload unloads its assembly under a live channel, and Unity calls
        /// OnDisable (which calls this) before every reload. Cancelling first ends every call, so the
        /// shutdown does not wait on a server.
        /// </summary>
        public void Dispose()
        {
            if (m_Stop.IsCancellationRequested)
            {
                return;
            }
            m_Stop.Cancel();
            m_Frames.Close();
            m_Thread.Join();
        }

        private double Now()
        {
            return m_Clock.Elapsed.TotalSeconds;
        }

        private void Run()
        {
            m_Machine.Connect(Now());
            while (!m_Stop.IsCancellationRequested && m_Machine.State != SessionState.Closed)
            {
                Publish();
                if (m_Machine.State == SessionState.Reconnecting && !m_Machine.Poll(Now()))
                {
                    double wait = m_Machine.SecondsUntilRetry(Now());
                    m_Stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(Math.Min(0.1, Math.Max(0.001, wait))));
                    continue;
                }
                if (m_Machine.State == SessionState.Connecting)
                {
                    RunSession();
                }
            }
            m_Machine.Close();
            Publish();
        }

        /// <summary>One connection attempt and, if Hello succeeds, the streaming session until it ends.</summary>
        private void RunSession()
        {
            Channel channel = null;
            CancellationTokenSource session = CancellationTokenSource.CreateLinkedTokenSource(m_Stop.Token);
            try
            {
                channel = new Channel(m_Settings.Address, Credentials(m_Settings), new[]
                {
                    // Grpc.Core's default is 4 MiB; the server's frames (max_frame_bytes) are larger.
                    new ChannelOption(ChannelOptions.MaxReceiveMessageLength, m_Settings.MaxReceiveMessageBytes),
                });
                var invoker = new DefaultCallInvoker(channel);
                m_Machine.OnChannelReady(Now());
                Publish();
                HelloResponse hello;
                if (!TryHello(invoker, out hello))
                {
                    return;
                }
                m_Machine.OnHelloAccepted(hello.SessionId, Now());
                m_Events.Enqueue(BridgeEvent.Opened(ProtoConvert.ToSession(hello)));
                Publish();
                Stream(invoker, hello, session);
            }
            catch (Exception e)
            {
                if (!m_Stop.IsCancellationRequested)
                {
                    Lost(Describe(e));
                }
            }
            finally
            {
                session.Cancel();
                session.Dispose();
                if (channel != null)
                {
                    // Every call was cancelled above, so this returns once gRPC has let go of the channel.
                    channel.ShutdownAsync().Wait();
                }
            }
        }

        private bool TryHello(CallInvoker invoker, out HelloResponse hello)
        {
            hello = null;
            HelloRequest request = ProtoConvert.ToHelloRequest(Volatile.Read(ref m_Client));
            var options = Options(DateTime.UtcNow.AddSeconds(m_Settings.HelloTimeoutSeconds), m_Stop.Token);
            try
            {
                hello = Await(invoker.AsyncUnaryCall(BridgeMethods.Hello, null, options, request).ResponseAsync);
            }
            catch (RpcException e)
            {
                m_Machine.OnHelloRefused("Hello refused: " + e.Status.Detail + " (" + e.Status.StatusCode + ")",
                    IsRetryable(e.Status.StatusCode), Now());
                m_Events.Enqueue(BridgeEvent.Failed(m_Machine.LastError));
                return false;
            }
            string versionError = BridgeProtocol.CheckServerVersion(hello.ProtocolVersion);
            if (versionError == null && hello.Limits != null)
            {
                versionError = BridgeRules.CheckReceiveLimit((long)hello.Limits.MaxFrameBytes,
                    (long)hello.Limits.ModelChunkBytes, m_Settings.MaxReceiveMessageBytes);
            }
            if (versionError != null)
            {
                m_Machine.OnHelloRefused(versionError, false, Now());
                m_Events.Enqueue(BridgeEvent.Failed(versionError));
                return false;
            }
            return true;
        }

        /// <summary>Frames up and down, model pushes and acks, until a stream fails or we stop.</summary>
        private void Stream(CallInvoker invoker, HelloResponse hello, CancellationTokenSource session)
        {
            CancellationToken token = session.Token;
            bool acceptsPush = Volatile.Read(ref m_Client).AcceptsModelPush;
            using (AsyncDuplexStreamingCall<FrameUp, FrameDown> frames =
                invoker.AsyncDuplexStreamingCall(BridgeMethods.Frames, null, Options(null, token)))
            using (AsyncServerStreamingCall<WireChunk> models = acceptsPush
                ? invoker.AsyncServerStreamingCall(BridgeMethods.Models, null, Options(null, token),
                    new ModelsRequest { SessionId = hello.SessionId, Pinned = m_Settings.Pinned })
                : null)
            {
                Task readFrames = Task.Run(() => ReadFrames(frames.ResponseStream, token));
                Task readModels = models != null
                    ? Task.Run(() => ReadModels(models.ResponseStream, token))
                    : null;
                bool first = true;
                while (!token.IsCancellationRequested)
                {
                    if (readFrames.IsCompleted)
                    {
                        Lost(EndReason(readFrames, "the server closed the frame stream"));
                        return;
                    }
                    if (readModels != null && readModels.IsCompleted)
                    {
                        Lost(EndReason(readModels, "the server closed the model stream"));
                        return;
                    }
                    SendAcks(invoker, hello.SessionId);
                    CapturedFrame frame;
                    if (m_Frames.TryTake(out frame, TakeTimeoutMs))
                    {
                        FrameUp up = ProtoConvert.ToFrameUp(frame, first ? hello.SessionId : "", m_Settings.PixelFormat);
                        Await(frames.RequestStream.WriteAsync(up));
                        first = false;
                        Interlocked.Increment(ref m_FramesSent);
                        Publish();
                    }
                }
            }
        }

        private async Task ReadFrames(IAsyncStreamReader<FrameDown> stream, CancellationToken token)
        {
            while (await stream.MoveNext(token).ConfigureAwait(false))
            {
                m_Events.Enqueue(BridgeEvent.Answered(ProtoConvert.ToResult(stream.Current)));
            }
        }

        private async Task ReadModels(IAsyncStreamReader<WireChunk> stream, CancellationToken token)
        {
            while (await stream.MoveNext(token).ConfigureAwait(false))
            {
                m_Events.Enqueue(BridgeEvent.Pushed(ProtoConvert.ToCore(stream.Current)));
            }
        }

        private void SendAcks(CallInvoker invoker, string sessionId)
        {
            SwapAck ack;
            while (m_Acks.TryDequeue(out ack))
            {
                try
                {
                    var options = Options(DateTime.UtcNow.AddSeconds(AckTimeoutSeconds), m_Stop.Token);
                    Await(invoker.AsyncUnaryCall(BridgeMethods.AckModel, null, options,
                        ProtoConvert.ToProto(ack, sessionId)).ResponseAsync);
                }
                catch (RpcException e)
                {
                    m_Events.Enqueue(BridgeEvent.Failed("the server did not take the ack of push " + ack.PushId
                        + ": " + e.Status.Detail + " (" + e.Status.StatusCode + ")"));
                }
            }
        }

        /// <summary>
        /// TLS trusting the configured root, or plain text. Without a configured root, Grpc.Core 1.10's
        /// <c>new SslCredentials()</c> trusts the roots.pem embedded in Grpc.Core.dll (gRPC's bundle of early
        /// 2018), not the operating system's store: a server certificate from a CA added since fails.
        /// </summary>
        private static ChannelCredentials Credentials(BridgeSettings settings)
        {
            if (!settings.UseTls)
            {
                return ChannelCredentials.Insecure;
            }
            return settings.RootCertificates.Length > 0
                ? new SslCredentials(settings.RootCertificates)
                : new SslCredentials();
        }

        private CallOptions Options(DateTime? deadline, CancellationToken token)
        {
            Metadata headers = null;
            if (m_Settings.Token.Length > 0)
            {
                headers = new Metadata();
                headers.Add("authorization", "Bearer " + m_Settings.Token);
            }
            return new CallOptions(headers, deadline, token);
        }

        private void Lost(string reason)
        {
            if (m_Machine.OnConnectionLost(reason, Now()))
            {
                m_Events.Enqueue(BridgeEvent.Failed(reason));
            }
            Publish();
        }

        private void Publish()
        {
            var status = new BridgeStatus(m_Machine.State, m_Settings.Address, m_Machine.SessionId, m_Machine.LastError,
                m_Machine.Attempt, m_Machine.SecondsUntilRetry(Now()), Interlocked.Read(ref m_FramesSent),
                m_Frames.Replaced);
            Volatile.Write(ref m_Status, status);
        }

        /// <summary>Waits for a call on this (network) thread, unwrapping the task's exception.</summary>
        private T Await<T>(Task<T> task)
        {
            Await((Task)task);
            return task.Result;
        }

        private void Await(Task task)
        {
            try
            {
                task.Wait(m_Stop.Token);
            }
            catch (AggregateException e)
            {
                Exception inner = e.GetBaseException();
                var rpc = inner as RpcException;
                if (rpc != null)
                {
                    throw rpc;
                }
                throw new InvalidOperationException(inner.Message, inner);
            }
        }

        private static bool IsRetryable(StatusCode code)
        {
            return BridgeRules.IsRetryable((int)code);
        }

        private static string EndReason(Task reader, string closed)
        {
            if (reader.IsFaulted && reader.Exception != null)
            {
                return Describe(reader.Exception.GetBaseException());
            }
            return closed;
        }

        private static string Describe(Exception e)
        {
            var rpc = e as RpcException;
            if (rpc != null)
            {
                return rpc.Status.StatusCode == StatusCode.Unavailable
                    ? "server unavailable (is `stylebridge serve` running at this address?): " + rpc.Status.Detail
                    : rpc.Status.StatusCode + ": " + rpc.Status.Detail;
            }
            return e.Message;
        }
    }
}
#endif
