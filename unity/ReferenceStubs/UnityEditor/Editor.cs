// REFERENCE STUB - not UnityEditor. Declares only what the StyleBridge editor window calls, with
// the signatures of Unity 2021.3 (UnityEditor.CoreModule); every body throws. See ../README.md.

using System;
using UnityEngine;

namespace UnityEditor
{
    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/EditorWindow.html
    // (`public static T GetWindow<T>(string title) where T : EditorWindow`, `Repaint()`; OnGUI,
    // OnEnable, OnInspectorUpdate are messages found by name).
    public class EditorWindow : ScriptableObject
    {
        public static T GetWindow<T>(string title) where T : EditorWindow { throw new NotImplementedException(); }
        public void Repaint() { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/MenuItem-ctor.html
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        public MenuItem(string itemName) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/EditorGUILayout.html
    // (TextField(string label, string text, params GUILayoutOption[] options), PasswordField(string
    // label, string password, params ...), LabelField(string label, string label2, params ...),
    // HelpBox(string message, MessageType type), Space()).
    public sealed class EditorGUILayout
    {
        public static string TextField(string label, string text, params GUILayoutOption[] options) { throw new NotImplementedException(); }
        public static string PasswordField(string label, string password, params GUILayoutOption[] options) { throw new NotImplementedException(); }
        public static void LabelField(string label, string label2, params GUILayoutOption[] options) { throw new NotImplementedException(); }
        public static void HelpBox(string message, MessageType type) { throw new NotImplementedException(); }
        public static void Space() { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/MessageType.html
    public enum MessageType
    {
        None = 0,
        Info = 1,
        Warning = 2,
        Error = 3,
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/EditorApplication-isPlaying.html
    public sealed class EditorApplication
    {
        public static bool isPlaying { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/EditorPrefs.html
    // (GetString(string key, string defaultValue), SetString(string key, string value)).
    public sealed class EditorPrefs
    {
        public static string GetString(string key, string defaultValue) { throw new NotImplementedException(); }
        public static void SetString(string key, string value) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/SessionState.html
    // (`public class SessionState` in UnityEditor since Unity 5.x: GetString(string key, string
    // defaultValue), SetString(string key, string value)). Declared so that an unqualified
    // `SessionState` in a file that imports both UnityEditor and StyleBridge.Core fails here with
    // CS0104, as it does in Unity.
    public class SessionState
    {
        public static string GetString(string key, string defaultValue) { throw new NotImplementedException(); }
        public static void SetString(string key, string value) { throw new NotImplementedException(); }
    }
}
