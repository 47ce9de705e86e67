using System.Globalization;
using StyleBridge.Bridge;
using StyleBridge.Core;
using StyleBridge.Swap;
using UnityEditor;
using UnityEngine;
using SessionState = StyleBridge.Core.SessionState; // not UnityEditor.SessionState (CS0104)

namespace StyleBridge.Editor
{
    /// <summary>
    /// Window ▸ StyleBridge: server address and token, connect / disconnect, connection status, the
    /// active model, live engine vs Python timings (median, p90, p99) and the last swap result.
    /// Reads the <see cref="StyleTransfer"/> in the open scene during Play; settings persist in EditorPrefs.
    /// </summary>
    public sealed class StyleBridgeWindow : EditorWindow
    {
        private const string AddressKey = "StyleBridge.Address";
        private const string TokenKey = "StyleBridge.Token";

        private string m_Address = "127.0.0.1:50051";
        private string m_Token = "";

        [MenuItem("Window/StyleBridge")]
        public static void Open()
        {
            GetWindow<StyleBridgeWindow>("StyleBridge");
        }

        private void OnEnable()
        {
            m_Address = EditorPrefs.GetString(AddressKey, m_Address);
            m_Token = EditorPrefs.GetString(TokenKey, "");
        }

        private void OnInspectorUpdate()
        {
            if (EditorApplication.isPlaying)
            {
                Repaint(); // live numbers, ten times a second
            }
        }

        private void OnGUI()
        {
            string address = EditorGUILayout.TextField("Server address", m_Address);
            string token = EditorGUILayout.PasswordField("Token", m_Token);
            if (address != m_Address || token != m_Token)
            {
                m_Address = address;
                m_Token = token;
                EditorPrefs.SetString(AddressKey, m_Address);
                EditorPrefs.SetString(TokenKey, m_Token);
            }

            StyleTransfer styleTransfer = EditorApplication.isPlaying ? FindObjectOfType<StyleTransfer>() : null;
            if (styleTransfer == null)
            {
                EditorGUILayout.HelpBox(EditorApplication.isPlaying
                    ? "No StyleTransfer component in the scene: add one to the camera."
                    : "Enter Play mode with a StyleTransfer component on the camera to connect.", MessageType.Info);
                return;
            }
            BridgeClient client = styleTransfer.GetComponent<BridgeClient>();
            ModelSwapper swapper = styleTransfer.GetComponent<ModelSwapper>();
            DrawConnection(client);
            EditorGUILayout.Space();
            DrawModel(styleTransfer, swapper);
            EditorGUILayout.Space();
            DrawTimings(styleTransfer, client);
        }

        private void DrawConnection(BridgeClient client)
        {
            if (client == null)
            {
                EditorGUILayout.HelpBox("The camera has no BridgeClient component.", MessageType.Warning);
                return;
            }
            if (client.IsConnecting)
            {
                if (GUILayout.Button("Disconnect"))
                {
                    client.Disconnect();
                }
            }
            else if (GUILayout.Button("Connect"))
            {
                client.Connect(m_Address, m_Token);
            }
            BridgeStatus status = client.Status;
            EditorGUILayout.LabelField("Status", StatusText(status));
            EditorGUILayout.LabelField("Session", status.SessionId.Length > 0 ? status.SessionId : "-");
            ServerSession session = client.Session;
            if (session != null)
            {
                EditorGUILayout.LabelField("Server", session.ServerVersion + " (" + session.PythonBackend + ")");
            }
            EditorGUILayout.LabelField("Frames sent / replaced / skipped", string.Format(CultureInfo.InvariantCulture,
                "{0} / {1} / {2}", status.FramesSent, status.FramesReplaced, client.FramesSkipped));
            string problem = status.LastError.Length > 0 ? status.LastError : client.LastProblem;
            if (problem.Length > 0)
            {
                EditorGUILayout.HelpBox(problem, MessageType.Warning);
            }
        }

        private static string StatusText(BridgeStatus status)
        {
            if (status.State == SessionState.Reconnecting)
            {
                return string.Format(CultureInfo.InvariantCulture, "reconnecting in {0:0.0} s (attempt {1})",
                    status.RetryInSeconds, status.Attempt);
            }
            return status.State.ToString().ToLowerInvariant() + (status.Address.Length > 0 ? " " + status.Address : "");
        }

        private static void DrawModel(StyleTransfer styleTransfer, ModelSwapper swapper)
        {
            EditorGUILayout.LabelField("Active model", styleTransfer.ActiveModel.ToString());
            if (styleTransfer.Engine != null)
            {
                EditorGUILayout.LabelField("Engine", styleTransfer.Engine.Family + " " + styleTransfer.Engine.Version
                    + " / " + styleTransfer.Engine.WorkerType);
            }
            if (styleTransfer.LastError.Length > 0)
            {
                EditorGUILayout.HelpBox(styleTransfer.LastError, MessageType.Error);
            }
            if (swapper == null)
            {
                return;
            }
            EditorGUILayout.LabelField("Swap state", swapper.State.ToString());
            SwapAck ack = swapper.LastAck;
            if (ack == null)
            {
                EditorGUILayout.LabelField("Last swap", "-");
            }
            else if (ack.Status == SwapAckStatus.Active)
            {
                EditorGUILayout.LabelField("Last swap", string.Format(CultureInfo.InvariantCulture,
                    "{0} active from frame {1}: import {2:0.0} ms, warm-up {3:0.0} ms, first frame {4:0.0} ms",
                    ack.Model, ack.FirstSequence, ack.ImportMs, ack.WarmupMs, ack.FirstInferenceMs));
            }
            else
            {
                EditorGUILayout.HelpBox("Last swap rolled back (" + ack.Model + "): " + ack.Error, MessageType.Warning);
            }
        }

        private static void DrawTimings(StyleTransfer styleTransfer, BridgeClient client)
        {
            EditorGUILayout.LabelField("Timings (ms)", "median / p90 / p99 (n)");
            EditorGUILayout.LabelField("Engine (" + styleTransfer.TimingMethod + ")",
                Summary(styleTransfer.EngineTimings.Summary()));
            if (client != null)
            {
                EditorGUILayout.LabelField("Python", Summary(client.PythonTimings.Summary()));
                FrameResult last = client.LastFrame;
                if (last != null && last.ParityPsnrDb.HasValue)
                {
                    EditorGUILayout.LabelField("Parity (PSNR)", string.Format(CultureInfo.InvariantCulture,
                        "{0:0.0} dB", last.ParityPsnrDb.Value));
                }
            }
        }

        private static string Summary(TimingSummary summary)
        {
            if (summary.Count == 0)
            {
                return "-";
            }
            return string.Format(CultureInfo.InvariantCulture, "{0:0.0} / {1:0.0} / {2:0.0} ({3})",
                summary.P50Ms, summary.P90Ms, summary.P99Ms, summary.Count);
        }
    }
}
