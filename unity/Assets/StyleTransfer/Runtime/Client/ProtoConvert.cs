using System;
using StyleBridge.Core;
using StyleBridge.Inference;
using StyleBridge.Protocol.V1;
using CoreChunk = StyleBridge.Core.ModelChunk;
using WireChunk = StyleBridge.Protocol.V1.ModelChunk;

namespace StyleBridge.Bridge
{
    /// <summary>
    /// The one place where the Unity side maps between the generated protocol messages and its own
    /// types (Core's swap types, the bridge types above). Pure C#, safe on any thread.
    /// </summary>
    public static class ProtoConvert
    {
        /// <summary>The Hello request for this client.</summary>
        public static HelloRequest ToHelloRequest(ClientDescription client)
        {
            var capabilities = new ClientCapabilities
            {
                AcceptsModelPush = client.AcceptsModelPush,
                SendsEngineOutput = client.SendsEngineOutput,
                WantsStylizedPixels = client.WantsStylizedPixels,
                MaxModelBytes = (ulong)Math.Max(0, client.MaxModelBytes),
            };
            capabilities.PixelFormats.Add(PixelFormat.Rgb8);
            capabilities.PixelFormats.Add(PixelFormat.Rgba8);
            return new HelloRequest
            {
                ProtocolVersion = BridgeProtocol.Version,
                Client = new ClientInfo
                {
                    Engine = ToProto(client.Engine),
                    EngineVersion = client.EngineVersion,
                    UnityVersion = client.UnityVersion,
                    WorkerType = client.WorkerType,
                    Gpu = client.Gpu,
                    Platform = client.Platform,
                    ClientName = ClientDescription.ClientName,
                },
                Capabilities = capabilities,
                ActiveModel = ToProto(client.ActiveModel),
            };
        }

        /// <summary>The engine family as the protocol names it.</summary>
        public static EngineKind ToProto(EngineFamily family)
        {
            return family == EngineFamily.Sentis ? EngineKind.Sentis : EngineKind.Barracuda;
        }

        /// <summary>A timing method as the protocol names it (same numbers).</summary>
        public static TimingMethod ToProto(EngineTimingMethod method)
        {
            return (TimingMethod)(int)method;
        }

        /// <summary>A model reference.</summary>
        public static ModelRef ToProto(ModelIdentity model)
        {
            model = model ?? ModelIdentity.None;
            return new ModelRef { ModelId = model.ModelId, Version = model.Version, Sha256 = model.Sha256 };
        }

        /// <summary>A model reference as Core names it (null → none).</summary>
        public static ModelIdentity ToCore(ModelRef model)
        {
            return model == null ? ModelIdentity.None : new ModelIdentity(model.ModelId, model.Version, model.Sha256);
        }

        /// <summary>The session the server opened.</summary>
        public static ServerSession ToSession(HelloResponse hello)
        {
            return new ServerSession(hello.SessionId, hello.ServerVersion,
                hello.Capabilities != null ? hello.Capabilities.PythonBackend : "",
                ToCore(hello.PythonModel),
                hello.Capabilities != null && hello.Capabilities.ModelPush,
                hello.Limits != null ? (long)hello.Limits.MaxFrameBytes : 0);
        }

        /// <summary>A pushed chunk for Core's swap machine (metadata only on the first chunk).</summary>
        public static CoreChunk ToCore(WireChunk chunk)
        {
            ModelInputInfo metadata = null;
            if (chunk.Metadata != null)
            {
                ModelMetadata m = chunk.Metadata;
                metadata = new ModelInputInfo(m.InputName, m.OutputName, m.InputRange,
                    (int)m.RecommendedWidth, (int)m.RecommendedHeight);
            }
            return new CoreChunk(chunk.PushId, ToCore(chunk.Model), (long)chunk.TotalBytes, (long)chunk.Offset,
                chunk.Data != null ? chunk.Data.ToByteArray() : null, chunk.Last, metadata);
        }

        /// <summary>The ModelAck for one of the swap machine's acks.</summary>
        public static ModelAck ToProto(SwapAck ack, string sessionId)
        {
            return new ModelAck
            {
                SessionId = sessionId ?? "",
                PushId = ack.PushId,
                Model = ToProto(ack.Model),
                Status = ack.Status == SwapAckStatus.Active ? AckStatus.Active : AckStatus.RolledBack,
                ImportMs = ack.ImportMs,
                WarmupMs = ack.WarmupMs,
                FirstInferenceMs = ack.FirstInferenceMs,
                FirstSequence = ack.FirstSequence,
                Error = ack.Error,
            };
        }

        /// <summary>
        /// Packs a captured frame for the wire: rows flipped to top-down (Unity's readback is
        /// bottom-up), tight rows, in <paramref name="format"/>.
        /// </summary>
        /// <param name="sessionId">Set on the first message of the stream only ("" otherwise).</param>
        public static FrameUp ToFrameUp(CapturedFrame frame, string sessionId, WirePixelFormat format)
        {
            var up = new FrameUp
            {
                SessionId = sessionId ?? "",
                Sequence = frame.Sequence,
                CaptureTimeUs = frame.CaptureTimeUs,
                Image = ToImage(frame.Rgba32, frame.Width, frame.Height, format),
                ModelId = frame.ModelId,
            };
            if (frame.Timing.Measured)
            {
                up.EngineTiming = new EngineTiming
                {
                    InferenceMs = frame.Timing.Milliseconds,
                    Method = ToProto(frame.Timing.Method),
                };
            }
            if (frame.EngineOutputRgba32 != null)
            {
                up.EngineOutput = ToImage(frame.EngineOutputRgba32, frame.Width, frame.Height, WirePixelFormat.Rgb8);
            }
            return up;
        }

        /// <summary>A bottom-up RGBA32 readback as a wire image (rows top-down, tight, in <paramref name="format"/>).</summary>
        public static Image ToImage(byte[] rgba32, int width, int height, WirePixelFormat format)
        {
            int stride = FramePacking.TightStride(width, format);
            byte[] wire = FramePacking.PackRgba32(rgba32, width, height, true, format, stride);
            return new Image
            {
                Width = (uint)width,
                Height = (uint)height,
                PixelFormat = (PixelFormat)(int)format,
                RowStride = (uint)stride,
                Pixels = Google.Protobuf.ByteString.CopyFrom(wire),
            };
        }

        /// <summary>What the server said about one frame (pixels are not kept).</summary>
        public static FrameResult ToResult(FrameDown down)
        {
            return new FrameResult(down.Sequence, StatusName(down.Status), down.PythonInferenceMs, down.QueueMs,
                down.Backend, down.ModelId, down.HasParity ? down.ParityPsnrDb : (double?)null, down.DroppedTotal,
                down.Error);
        }

        private static string StatusName(FrameStatus status)
        {
            switch (status)
            {
                case FrameStatus.Processed:
                    return "processed";
                case FrameStatus.Dropped:
                    return "dropped";
                case FrameStatus.Recorded:
                    return "recorded";
                case FrameStatus.Failed:
                    return "failed";
                case FrameStatus.Rejected:
                    return "rejected";
                default:
                    return "unspecified";
            }
        }
    }
}
