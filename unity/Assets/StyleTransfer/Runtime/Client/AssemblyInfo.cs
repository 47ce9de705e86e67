using System.Runtime.CompilerServices;

// The MonoBehaviours in StyleBridge.Runtime create the connection through the internal factory.
[assembly: InternalsVisibleTo("StyleBridge.Runtime")]
