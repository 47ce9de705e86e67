namespace StyleBridge.Inference
{
    /// <summary>
    /// The engine package versions really installed, as Hello reports them, so that the server's
    /// per-version verdicts apply (python: <c>stylebridge.engines.targets.engine_for_client</c>).
    /// <para>
    /// Read from defines that the asmdef's versionDefines set from the project's resolved packages, so the
    /// answer is fixed at compile time and works in built players (no UnityEditor.PackageManager, which
    /// is editor-only). A version no define names reports its known floor with a "+" (e.g. "3.0.1+"):
    /// the package's own dependency pins Barracuda to 3.0.0 or later.
    /// </para>
    /// </summary>
    internal static class InstalledPackages
    {
        /// <summary>com.unity.barracuda's version: "3.0.0", "3.0.1", or "3.0.1+" for a later one.</summary>
        public static string Barracuda
        {
            get
            {
#if STYLEBRIDGE_BARRACUDA_3_0_1
                return "3.0.1";
#elif STYLEBRIDGE_BARRACUDA_3_0_0
                return "3.0.0";
#else
                return "3.0.1+";
#endif
            }
        }

        /// <summary>com.unity.sentis's minor version ("1.5" or "1.6"); "" when the backend is not compiled.</summary>
        public static string Sentis
        {
            get
            {
#if STYLEBRIDGE_SENTIS_1_6
                return "1.6";
#elif STYLEBRIDGE_SENTIS
                return "1.5";
#else
                return "";
#endif
            }
        }
    }
}
