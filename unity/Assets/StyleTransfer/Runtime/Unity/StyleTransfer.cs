using System;
using StyleBridge.Core;
using StyleBridge.Inference;
using StyleBridge.Swap;
using Unity.Barracuda;
using UnityEngine;

namespace StyleBridge
{
    /// <summary>What one stylized frame looked like, for listeners such as <see cref="Bridge.BridgeClient"/>.</summary>
    public sealed class StylizedFrame
    {
        internal StylizedFrame(ulong sequence, RenderTexture input, RenderTexture output, ModelIdentity model,
            EngineTimingSample timing)
        {
            Sequence = sequence;
            Input = input;
            Output = output;
            Model = model;
            Timing = timing;
        }

        /// <summary>Increasing frame number (the protocol's FrameUp.sequence).</summary>
        public ulong Sequence { get; }

        /// <summary>The camera image at the inference resolution (valid during the callback only).</summary>
        public RenderTexture Input { get; }

        /// <summary>The engine's stylized image, same size (valid during the callback only).</summary>
        public RenderTexture Output { get; }

        /// <summary>The model that produced <see cref="Output"/>.</summary>
        public ModelIdentity Model { get; }

        /// <summary>The engine time of this frame, when it was a timed frame.</summary>
        public EngineTimingSample Timing { get; }
    }

    /// <summary>Which inference package <see cref="StyleTransfer"/> uses.</summary>
    public enum InferenceBackend
    {
        /// <summary>com.unity.barracuda: imports pushed ONNX files at runtime.</summary>
        Barracuda = 0,
        /// <summary>com.unity.sentis 1.5+ (only when the package is installed): runs its model asset; no pushes.</summary>
        Sentis = 1,
    }

    /// <summary>
    /// The one component to put on a camera: captures what the camera rendered, runs the style model
    /// (Barracuda by default), shows the stylized image, and times sampled frames honestly (GPU
    /// queue drained first, blocking download of the output last). Model hot-swaps go through the
    /// <see cref="ModelSwapper"/> next to it; the <see cref="Bridge.BridgeClient"/> next to it streams
    /// frames and timings to the StyleBridge server. Uses <c>OnRenderImage</c>, i.e. the built-in
    /// render pipeline (see the README for URP/HDRP).
    /// </summary>
    [DisallowMultipleComponent]
    [RequireComponent(typeof(Camera))]
    [RequireComponent(typeof(ModelSwapper))]
    [RequireComponent(typeof(Bridge.BridgeClient))]
    [AddComponentMenu("StyleBridge/Style Transfer")]
    public sealed class StyleTransfer : MonoBehaviour
    {
        [Header("Model")]
        [Tooltip("Inference package. Sentis appears only when com.unity.sentis 1.5+ is installed.")]
        [SerializeField] private InferenceBackend m_Backend = InferenceBackend.Barracuda;

        [Tooltip("Barracuda worker type: ComputePrecompiled (GPU, fastest), Compute, CSharpBurst (CPU) ...")]
        [SerializeField] private WorkerFactory.Type m_WorkerType = WorkerFactory.Type.ComputePrecompiled;

        [Tooltip("The style model (.onnx imported by Barracuda). Pushed models replace it at runtime.")]
        [SerializeField] private NNModel m_Model;

#if STYLEBRIDGE_SENTIS
        [Tooltip("The style model for the Sentis backend (.onnx imported by Sentis in the editor).")]
        [SerializeField] private Unity.Sentis.ModelAsset m_SentisModel;

        [SerializeField] private Unity.Sentis.BackendType m_SentisBackend = Unity.Sentis.BackendType.GPUCompute;
#endif

        [Tooltip("Name of the model as the StyleBridge catalog knows it (what frames report).")]
        [SerializeField] private string m_ModelId = "mosaic";

        [Tooltip("Input range the model expects: 255 for a TransformerNet exported without the scale, 1 with it.")]
        [SerializeField] private float m_ModelInputRange = ModelInputInfo.DefaultInputRange;

        [Header("Resolution and timing")]
        [Tooltip("Resolution the model runs at (0 = the camera's). Smaller is faster.")]
        [SerializeField, Min(0)] private int m_InferenceWidth = 640;

        [SerializeField, Min(0)] private int m_InferenceHeight = 360;

        [Tooltip("Time every Nth frame with a blocking readback (0 = never). Timed frames cost a GPU sync.")]
        [SerializeField, Min(0)] private int m_TimeEveryNFrames = 10;

        [Tooltip("Show the stylized image (off: pass the camera image through; inference still runs).")]
        [SerializeField] private bool m_ShowStylized = true;

        private readonly TimingStats m_EngineTimings = new TimingStats();
        private IStyleEngine m_Engine;
        private ModelSwapper m_Swapper;
        private RenderTexture m_Input;
        private RenderTexture m_Output;
        private ulong m_Sequence;
        private string m_LastError = "";

        /// <summary>Raised on the main thread after every stylized frame.</summary>
        public event Action<StylizedFrame> FrameStylized;

        /// <summary>The engine in use (null before OnEnable).</summary>
        public IStyleEngine Engine
        {
            get { return m_Engine; }
        }

        /// <summary>Engine times of the timed frames (median, p90, p99 over a window).</summary>
        public TimingStats EngineTimings
        {
            get { return m_EngineTimings; }
        }

        /// <summary>How timed frames are measured with the current engine and worker type.</summary>
        public EngineTimingMethod TimingMethod
        {
            get
            {
                var barracuda = m_Engine as BarracudaEngine;
                return barracuda != null ? barracuda.TimingMethod : EngineTimingMethod.BlockingReadback;
            }
        }

        /// <summary>The model running now.</summary>
        public ModelIdentity ActiveModel
        {
            get { return m_Swapper != null ? m_Swapper.ActiveModel : ModelIdentity.None; }
        }

        /// <summary>Why the last model failed to load or run ("" when fine).</summary>
        public string LastError
        {
            get { return m_LastError; }
        }

        /// <summary>The render texture the model reads (inference resolution); null before the first frame.</summary>
        internal RenderTexture InputTexture
        {
            get { return m_Input; }
        }

        /// <summary>Frames stylized so far.</summary>
        public ulong FrameCount
        {
            get { return m_Sequence; }
        }

        private void OnEnable()
        {
            m_Swapper = GetComponent<ModelSwapper>();
            try
            {
                m_Engine = CreateEngine();
                IStyleModel initial = LoadInitialModel(m_Engine);
                m_Swapper.Initialize(m_Engine, initial, this);
                m_LastError = "";
            }
            catch (Exception e)
            {
                m_LastError = e.Message;
                Debug.LogError("StyleTransfer: " + e.Message);
                m_Swapper.Initialize(m_Engine, null, this);
            }
        }

        private void OnDisable()
        {
            if (m_Swapper != null)
            {
                m_Swapper.Shutdown();
            }
            ReleaseTargets();
        }

        private IStyleEngine CreateEngine()
        {
            if (m_Backend == InferenceBackend.Sentis)
            {
#if STYLEBRIDGE_SENTIS
                return new SentisEngine(m_SentisModel, m_SentisBackend);
#else
                throw new InvalidOperationException(
                    "the Sentis backend needs com.unity.sentis 1.5 or newer (below 2.0) in the project; "
                    + "install it or select Barracuda");
#endif
            }
            return new BarracudaEngine(m_WorkerType);
        }

        private IStyleModel LoadInitialModel(IStyleEngine engine)
        {
            var info = new ModelInputInfo("", "", m_ModelInputRange, m_InferenceWidth, m_InferenceHeight);
            var identity = new ModelIdentity(m_ModelId, 0, "");
            var barracuda = engine as BarracudaEngine;
            if (barracuda != null)
            {
                if (m_Model == null)
                {
                    Debug.LogWarning("StyleTransfer: no model assigned; the camera image passes through "
                        + "until a model is pushed by the StyleBridge server.");
                    return null;
                }
                return engine.CreateModel(barracuda.FromAsset(m_Model, info), identity);
            }
#if STYLEBRIDGE_SENTIS
            var sentis = engine as SentisEngine;
            if (sentis != null)
            {
                return sentis.CreateFromAsset(identity, info);
            }
#endif
            return null;
        }

        private void OnRenderImage(RenderTexture source, RenderTexture destination)
        {
            EnsureTargets(source);
            bool mustTime = false;
            IStyleModel model = m_Swapper != null ? m_Swapper.ModelForFrame(out mustTime) : null;
            if (model == null)
            {
                Graphics.Blit(source, destination);
                return;
            }
            m_Sequence++;
            bool timed = mustTime || (m_TimeEveryNFrames > 0 && m_Sequence % (ulong)m_TimeEveryNFrames == 0);
            Graphics.Blit(source, m_Input);
            EngineTimingSample timing;
            try
            {
                timing = model.Run(m_Input, m_Output, timed);
            }
            catch (Exception e)
            {
                m_LastError = "inference failed: " + e.Message;
                Debug.LogException(e);
                Graphics.Blit(source, destination);
                return;
            }
            if (timing.Measured)
            {
                m_EngineTimings.Add(timing.Milliseconds);
            }
            ModelIdentity ran = m_Swapper.FrameDone(m_Sequence, timing);
            Graphics.Blit(m_ShowStylized ? m_Output : source, destination);
            Action<StylizedFrame> handler = FrameStylized;
            if (handler != null)
            {
                handler(new StylizedFrame(m_Sequence, m_Input, m_Output, ran, timing));
            }
        }

        /// <summary>(Re)creates the input and output textures at the inference resolution.</summary>
        private void EnsureTargets(Texture source)
        {
            int width = m_InferenceWidth > 0 ? m_InferenceWidth : source.width;
            int height = m_InferenceHeight > 0 ? m_InferenceHeight : source.height;
            if (m_Input != null && m_Input.width == width && m_Input.height == height)
            {
                return;
            }
            ReleaseTargets();
            m_Input = StyleTextures.Create(width, height, false);
            // Barracuda's compute path writes the output texture directly (random write).
            m_Output = StyleTextures.Create(width, height, true);
        }

        /// <summary>A scratch output texture of the inference size, for warm-ups (caller releases it).</summary>
        internal RenderTexture CreateScratchOutput()
        {
            int width = m_Input != null ? m_Input.width : Math.Max(1, m_InferenceWidth);
            int height = m_Input != null ? m_Input.height : Math.Max(1, m_InferenceHeight);
            return StyleTextures.Create(width, height, true);
        }

        /// <summary>An input for warm-ups: the last camera frame, or a blank texture of the inference size.</summary>
        internal RenderTexture WarmupInput()
        {
            if (m_Input == null)
            {
                int width = Math.Max(1, m_InferenceWidth > 0 ? m_InferenceWidth : 640);
                int height = Math.Max(1, m_InferenceHeight > 0 ? m_InferenceHeight : 360);
                m_Input = StyleTextures.Create(width, height, false);
                m_Output = StyleTextures.Create(width, height, true);
            }
            return m_Input;
        }

        private void ReleaseTargets()
        {
            if (m_Input != null)
            {
                m_Input.Release();
                Destroy(m_Input);
                m_Input = null;
            }
            if (m_Output != null)
            {
                m_Output.Release();
                Destroy(m_Output);
                m_Output = null;
            }
        }
    }
}
