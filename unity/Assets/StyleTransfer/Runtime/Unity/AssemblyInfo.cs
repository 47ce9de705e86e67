using System.Runtime.CompilerServices;

// The PlayMode performance tests and the editor window reach internal members (status
// snapshots, the engine factory) without making them part of the public API.
[assembly: InternalsVisibleTo("StyleBridge.Tests.PlayMode")]
[assembly: InternalsVisibleTo("StyleBridge.Editor")]
