using System;

namespace StyleBridge.Core
{
    /// <summary>States of one client's connection to the bridge server.</summary>
    public enum SessionState
    {
        /// <summary>Not connected and not trying (the start).</summary>
        Disconnected,
        /// <summary>Opening the channel.</summary>
        Connecting,
        /// <summary>Channel open; the Hello call is in flight.</summary>
        Hello,
        /// <summary>Session open: frames flow and model pushes may arrive.</summary>
        Streaming,
        /// <summary>Lost or refused for a reason that may pass; waiting for <see cref="SessionStateMachine.RetryAtSeconds"/>.</summary>
        Reconnecting,
        /// <summary>Closed by the user, or refused for good (see <see cref="SessionStateMachine.LastError"/>).</summary>
        Closed,
    }

    /// <summary>
    /// The connection life cycle as pure logic: Disconnected → Connecting → Hello → Streaming, and on
    /// any failure Reconnecting with a capped, jittered exponential back-off, until closed. The host
    /// performs the I/O and reports what happened; times are seconds on any monotonic clock the host
    /// chooses (e.g. a Stopwatch), passed in so that the machine never reads a clock.
    /// Events that do not fit the current state are ignored and return false.
    /// Not thread-safe: call it from one thread, or under one lock.
    /// </summary>
    public sealed class SessionStateMachine
    {
        private readonly BackoffPolicy _policy;
        private readonly IRandomSource _random;
        private double _streamingSince;

        /// <summary>Creates a machine in <see cref="SessionState.Disconnected"/>.</summary>
        /// <param name="policy">Back-off policy (null = <see cref="BackoffPolicy.Default"/>).</param>
        /// <param name="random">Jitter source (null = a clock-seeded <see cref="SystemRandomSource"/>).</param>
        public SessionStateMachine(BackoffPolicy policy = null, IRandomSource random = null)
        {
            _policy = policy ?? BackoffPolicy.Default;
            _random = random ?? new SystemRandomSource();
            State = SessionState.Disconnected;
            SessionId = "";
            LastError = "";
        }

        /// <summary>Raised on every state change with (from, to), synchronously on the calling thread.</summary>
        public event Action<SessionState, SessionState> StateChanged;

        /// <summary>Where the connection is.</summary>
        public SessionState State { get; private set; }

        /// <summary>The session id of the accepted Hello ("" outside Streaming).</summary>
        public string SessionId { get; private set; }

        /// <summary>Consecutive failed attempts (0 after a stable stream or a fresh connect).</summary>
        public int Attempt { get; private set; }

        /// <summary>When the next connection attempt is due (Reconnecting only).</summary>
        public double RetryAtSeconds { get; private set; }

        /// <summary>Why the last attempt or session ended ("" when none failed).</summary>
        public string LastError { get; private set; }

        /// <summary>The back-off policy in use.</summary>
        public BackoffPolicy Policy
        {
            get { return _policy; }
        }

        /// <summary>Seconds until the next attempt (0 when due or not reconnecting).</summary>
        public double SecondsUntilRetry(double now)
        {
            return State == SessionState.Reconnecting ? Math.Max(0, RetryAtSeconds - now) : 0;
        }

        /// <summary>The user connects: Disconnected or Closed → Connecting (host opens the channel).</summary>
        public bool Connect(double now)
        {
            if (State != SessionState.Disconnected && State != SessionState.Closed)
            {
                return false;
            }
            Attempt = 0;
            LastError = "";
            MoveTo(SessionState.Connecting);
            return true;
        }

        /// <summary>The channel is open: Connecting → Hello (host sends HelloRequest).</summary>
        public bool OnChannelReady(double now)
        {
            if (State != SessionState.Connecting)
            {
                return false;
            }
            MoveTo(SessionState.Hello);
            return true;
        }

        /// <summary>The server accepted Hello: Hello → Streaming.</summary>
        public bool OnHelloAccepted(string sessionId, double now)
        {
            if (State != SessionState.Hello)
            {
                return false;
            }
            SessionId = sessionId ?? "";
            _streamingSince = now;
            MoveTo(SessionState.Streaming);
            return true;
        }

        /// <summary>
        /// The server refused Hello. A refusal that can pass (server busy, unavailable) retries with
        /// back-off; one that cannot (protocol version mismatch, bad token) closes the session with
        /// <paramref name="error"/> for the user to read.
        /// </summary>
        public bool OnHelloRefused(string error, bool retryable, double now)
        {
            if (State != SessionState.Hello)
            {
                return false;
            }
            if (!retryable)
            {
                LastError = error ?? "";
                SessionId = "";
                MoveTo(SessionState.Closed);
                return true;
            }
            ScheduleRetry(error, now, false);
            return true;
        }

        /// <summary>
        /// The channel, the Hello call or the stream failed: Connecting / Hello / Streaming →
        /// Reconnecting. A stream that lasted <see cref="BackoffPolicy.StableSeconds"/> starts the
        /// back-off over at attempt 1.
        /// </summary>
        public bool OnConnectionLost(string error, double now)
        {
            if (State != SessionState.Connecting && State != SessionState.Hello && State != SessionState.Streaming)
            {
                return false;
            }
            bool stable = State == SessionState.Streaming && now - _streamingSince >= _policy.StableSeconds;
            ScheduleRetry(error, now, stable);
            return true;
        }

        /// <summary>
        /// Call regularly (e.g. every frame). In Reconnecting, once <see cref="RetryAtSeconds"/> has
        /// come: → Connecting and true (the host opens the channel now).
        /// </summary>
        public bool Poll(double now)
        {
            if (State != SessionState.Reconnecting || now < RetryAtSeconds)
            {
                return false;
            }
            MoveTo(SessionState.Connecting);
            return true;
        }

        /// <summary>The user disconnects (or the component is destroyed): any state → Closed.</summary>
        public bool Close()
        {
            if (State == SessionState.Closed)
            {
                return false;
            }
            SessionId = "";
            MoveTo(SessionState.Closed);
            return true;
        }

        private void ScheduleRetry(string error, double now, bool resetAttempts)
        {
            if (resetAttempts)
            {
                Attempt = 0;
            }
            Attempt++;
            LastError = error ?? "";
            SessionId = "";
            RetryAtSeconds = now + _policy.DelaySeconds(Attempt, _random);
            MoveTo(SessionState.Reconnecting);
        }

        private void MoveTo(SessionState next)
        {
            SessionState previous = State;
            State = next;
            Action<SessionState, SessionState> handler = StateChanged;
            if (handler != null && previous != next)
            {
                handler(previous, next);
            }
        }
    }
}
