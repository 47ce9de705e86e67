// REFERENCE STUB - not UnityEngine: application, system, time and logging as the package uses
// them (Unity 2021.3). See ../README.md.

using System;

namespace UnityEngine
{
    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Application.html
    public sealed class Application
    {
        public static string unityVersion { get { throw new NotImplementedException(); } }
        public static RuntimePlatform platform { get { throw new NotImplementedException(); } }
        public static bool isEditor { get { throw new NotImplementedException(); } }
        public static string streamingAssetsPath { get { throw new NotImplementedException(); } }
        public static int targetFrameRate { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Screen.html
    public sealed class Screen
    {
        public static int width { get { throw new NotImplementedException(); } }
        public static int height { get { throw new NotImplementedException(); } }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/QualitySettings.GetQualityLevel.html
    public sealed class QualitySettings
    {
        public static int GetQualityLevel() { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/RuntimePlatform.html
    // (values as in the real enum for the members declared).
    public enum RuntimePlatform
    {
        OSXEditor = 0,
        OSXPlayer = 1,
        WindowsPlayer = 2,
        WindowsEditor = 7,
        LinuxPlayer = 13,
        LinuxEditor = 16,
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/SystemInfo.html
    public sealed class SystemInfo
    {
        public static string graphicsDeviceName { get { throw new NotImplementedException(); } }
        public static bool supportsAsyncGPUReadback { get { throw new NotImplementedException(); } }
        public static bool supportsComputeShaders { get { throw new NotImplementedException(); } }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Time.html
    public sealed class Time
    {
        public static int frameCount { get { throw new NotImplementedException(); } }
        public static float realtimeSinceStartup { get { throw new NotImplementedException(); } }
        public static float timeScale { get { throw new NotImplementedException(); } set { throw new NotImplementedException(); } }
        public static float deltaTime { get { throw new NotImplementedException(); } }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Debug.html
    public sealed class Debug
    {
        public static void Log(object message) { throw new NotImplementedException(); }
        public static void LogWarning(object message) { throw new NotImplementedException(); }
        public static void LogError(object message) { throw new NotImplementedException(); }
        public static void LogException(Exception exception) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/GUILayout.html
    // (Button(string text, params GUILayoutOption[] options), Label(string text, params ...)).
    public class GUILayout
    {
        public static bool Button(string text, params GUILayoutOption[] options) { throw new NotImplementedException(); }
        public static void Label(string text, params GUILayoutOption[] options) { throw new NotImplementedException(); }
    }

    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/GUILayoutOption.html
    public sealed class GUILayoutOption
    {
        private GUILayoutOption() { }
    }
}

namespace UnityEngine.Profiling
{
    // Source: https://docs.unity3d.com/2021.3/Documentation/ScriptReference/Profiling.Profiler.GetTotalAllocatedMemoryLong.html
    public sealed class Profiler
    {
        public static long GetTotalAllocatedMemoryLong() { throw new NotImplementedException(); }
    }
}
