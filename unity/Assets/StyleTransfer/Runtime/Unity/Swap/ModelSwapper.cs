using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;
using StyleBridge.Core;
using StyleBridge.Inference;
using UnityEngine;
using Debug = UnityEngine.Debug;

namespace StyleBridge.Swap
{
    /// <summary>
    /// Owns the running model and swaps pushed ones in, driven by Core's <see cref="SwapStateMachine"/>
    /// (the same machine as the Python reference client): chunks are reassembled and checked
    /// (sha256) by the machine; the ONNX import runs on the main thread (Barracuda's import schedules
    /// Burst jobs); the new worker is created and warmed up on the main thread while the old one keeps serving; the swap happens between two
    /// frames; the old worker is disposed right after; every push ends with an ack (import, warm-up
    /// and first-inference times, or the error, keeping the old model).
    /// </summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("StyleBridge/Model Swapper")]
    public sealed class ModelSwapper : MonoBehaviour
    {
        [Tooltip("Largest pushed model accepted, in MiB (0 = no limit of this client's own).")]
        [SerializeField, Min(0)] private int m_MaxModelMiB = 64;

        private readonly Stopwatch m_Watch = new Stopwatch();
        private SwapStateMachine m_Machine;
        private IStyleEngine m_Engine;
        private StyleTransfer m_Host;
        private IStyleModel m_Active;
        private IStyleModel m_Pending;
        private string m_PendingPushId = "";
        private Task<IParsedModel> m_Import;
        private string m_ImportPushId = "";

        /// <summary>Raised on the main thread for every ack the machine emits (the bridge sends it).</summary>
        public event Action<SwapAck> AckReady;

        /// <summary>Where the current push is (Idle when none came).</summary>
        public SwapState State
        {
            get { return m_Machine != null ? m_Machine.State : SwapState.Idle; }
        }

        /// <summary>The model running now (<see cref="ModelIdentity.None"/> when none).</summary>
        public ModelIdentity ActiveModel
        {
            get { return m_Machine != null ? m_Machine.ActiveModel : ModelIdentity.None; }
        }

        /// <summary>The last ack (null before the first push ended).</summary>
        public SwapAck LastAck
        {
            get { return m_Machine != null ? m_Machine.LastAck : null; }
        }

        /// <summary>Largest model this client accepts, in bytes (0 = no limit): Hello's max_model_bytes.</summary>
        public long MaxModelBytes
        {
            get { return (long)m_MaxModelMiB * 1024 * 1024; }
        }

        /// <summary>True when pushed models can be imported (the engine imports ONNX at runtime).</summary>
        public bool AcceptsPushes
        {
            get { return m_Engine != null && m_Engine.ImportsOnnxAtRuntime; }
        }

        /// <summary>Starts with <paramref name="initial"/> as the running model (null = none yet).</summary>
        internal void Initialize(IStyleEngine engine, IStyleModel initial, StyleTransfer host)
        {
            Shutdown();
            m_Engine = engine;
            m_Host = host;
            m_Active = initial;
            m_Machine = new SwapStateMachine(initial != null ? initial.Identity : ModelIdentity.None, MaxModelBytes);
        }

        /// <summary>A chunk of a push arrived (main thread); acks that result are raised at once.</summary>
        public void OnChunk(ModelChunk chunk)
        {
            if (m_Machine == null)
            {
                return;
            }
            Raise(m_Machine.OnChunk(chunk));
            if (m_Machine.State == SwapState.Loading && m_Import == null)
            {
                StartImport();
            }
        }

        /// <summary>
        /// The model that must run this frame. In <see cref="SwapState.Ready"/> that is the new model,
        /// and its first frame must be timed (the ack's first-inference time).
        /// </summary>
        internal IStyleModel ModelForFrame(out bool mustTime)
        {
            if (m_Machine != null && m_Machine.State == SwapState.Ready && m_Pending != null)
            {
                mustTime = true;
                return m_Pending;
            }
            mustTime = false;
            return m_Active;
        }

        /// <summary>A frame ran: tells the machine; when it was the new model's first, swaps and disposes the old.</summary>
        /// <returns>The model that ran the frame.</returns>
        internal ModelIdentity FrameDone(ulong sequence, EngineTimingSample timing)
        {
            SwapFrameResult result = m_Machine.OnFrame(sequence, timing.Milliseconds);
            if (result.Swapped)
            {
                IStyleModel old = m_Active;
                m_Active = m_Pending;
                m_Pending = null;
                m_PendingPushId = "";
                if (old != null)
                {
                    old.Dispose();
                }
                Raise(result.Ack);
            }
            return result.Model;
        }

        private void Update()
        {
            if (m_Machine == null)
            {
                return;
            }
            if (m_Import != null && m_Import.IsCompleted)
            {
                FinishImport();
            }
            else if (m_Machine.State == SwapState.Loading && m_Import == null)
            {
                StartImport();
            }
            DropSupersededPending();
        }

        private void StartImport()
        {
            byte[] bytes = m_Machine.PendingBytes;
            ModelInputInfo info = m_Machine.PendingMetadata
                ?? new ModelInputInfo("", "", ModelInputInfo.DefaultInputRange, 0, 0);
            m_ImportPushId = m_Machine.PendingPushId;
            if (m_Engine == null || !m_Engine.ImportsOnnxAtRuntime)
            {
                Raise(m_Machine.OnLoadFailed(m_Engine == null
                    ? "no inference engine is running on this client (see the StyleTransfer component's error)"
                    : "this client's engine (" + m_Engine.Family + ") cannot import ONNX at runtime; "
                      + "add the model to the project in the editor instead"));
                return;
            }
            IStyleEngine engine = m_Engine;
            m_Watch.Reset();
            m_Watch.Start();
            // On the main thread, in one piece: Barracuda 3.0's import runs its compiler passes there,
            // and they schedule Burst jobs (NCHWToNHWCPass holds a BurstCPUOps) and create baking workers
            // (FuseConstantsPass, IRShapeInferenceAndConstantFusing), which Unity allows from the main
            // thread only. The converter has no incremental API to time-slice, so a swap costs one long
            // frame; its length is measured and sent in the ack (import_ms).
            m_Import = RunInline(() => engine.Parse(bytes, info));
        }

        private static Task<IParsedModel> RunInline(Func<IParsedModel> parse)
        {
            var source = new TaskCompletionSource<IParsedModel>();
            try
            {
                source.SetResult(parse());
            }
            catch (Exception e)
            {
                source.SetException(e);
            }
            return source.Task;
        }

        private void FinishImport()
        {
            Task<IParsedModel> import = m_Import;
            string pushId = m_ImportPushId;
            m_Import = null;
            double importMs = m_Watch.Elapsed.TotalMilliseconds;
            if (m_Machine.State != SwapState.Loading || m_Machine.PendingPushId != pushId)
            {
                return; // superseded while importing: the machine already acked it
            }
            if (import.IsFaulted || import.IsCanceled)
            {
                Exception error = import.Exception != null ? import.Exception.GetBaseException() : null;
                Raise(m_Machine.OnLoadFailed(error != null ? error.Message : "the import was cancelled"));
                return;
            }
            m_Machine.OnLoadSucceeded(importMs);
            WarmUp(import.Result, pushId);
        }

        /// <summary>Creates the worker and runs one timed frame on it; the old model keeps serving.</summary>
        private void WarmUp(IParsedModel parsed, string pushId)
        {
            IStyleModel model = null;
            RenderTexture scratch = null;
            try
            {
                var watch = Stopwatch.StartNew();
                model = m_Engine.CreateModel(parsed, m_Machine.PendingModel);
                scratch = m_Host.CreateScratchOutput();
                model.Run(m_Host.WarmupInput(), scratch, true);
                watch.Stop();
                m_Machine.OnWarmSucceeded(watch.Elapsed.TotalMilliseconds);
                m_Pending = model;
                m_PendingPushId = pushId;
                model = null;
            }
            catch (Exception e)
            {
                Raise(m_Machine.OnWarmFailed("warm-up failed: " + e.Message));
            }
            finally
            {
                if (model != null)
                {
                    model.Dispose();
                }
                if (scratch != null)
                {
                    scratch.Release();
                    Destroy(scratch);
                }
            }
        }

        /// <summary>A newer push superseded a model that was ready: free its worker now.</summary>
        private void DropSupersededPending()
        {
            if (m_Pending != null
                && (m_Machine.State != SwapState.Ready || m_Machine.PendingPushId != m_PendingPushId))
            {
                m_Pending.Dispose();
                m_Pending = null;
                m_PendingPushId = "";
            }
        }

        private void Raise(IReadOnlyList<SwapAck> acks)
        {
            for (int i = 0; i < acks.Count; i++)
            {
                Raise(acks[i]);
            }
        }

        private void Raise(SwapAck ack)
        {
            if (ack == null)
            {
                return;
            }
            if (ack.Status == SwapAckStatus.RolledBack)
            {
                Debug.LogWarning("StyleBridge: " + ack);
            }
            else
            {
                Debug.Log("StyleBridge: " + ack);
            }
            Action<SwapAck> handler = AckReady;
            if (handler != null)
            {
                handler(ack);
            }
        }

        /// <summary>Disposes every worker this component owns (on disable, and before re-initializing).</summary>
        internal void Shutdown()
        {
            if (m_Pending != null)
            {
                m_Pending.Dispose();
                m_Pending = null;
            }
            if (m_Active != null)
            {
                m_Active.Dispose();
                m_Active = null;
            }
            m_Import = null; // a running import finishes on its own; its result is dropped
            m_Machine = null;
        }

        private void OnDestroy()
        {
            Shutdown();
        }
    }
}
