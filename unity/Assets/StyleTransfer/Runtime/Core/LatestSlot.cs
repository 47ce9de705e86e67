using System;
using System.Threading;

namespace StyleBridge.Core
{
    /// <summary>
    /// A one-item mailbox between the game thread and the network thread where the newest item
    /// wins: <see cref="Put"/> never blocks and replaces an item not yet taken (counted in
    /// <see cref="Replaced"/>), so a slow or absent server can never stall the game or let a
    /// queue grow. The taker waits with <see cref="TryTake(out T, int)"/>.
    /// </summary>
    /// <typeparam name="T">The item, e.g. a captured frame.</typeparam>
    public sealed class LatestSlot<T> : IDisposable where T : class
    {
        private readonly object _lock = new object();
        private T _item;
        private long _replaced;
        private long _put;
        private bool _closed;

        /// <summary>Items put that were replaced by a newer one before anyone took them.</summary>
        public long Replaced
        {
            get { lock (_lock) { return _replaced; } }
        }

        /// <summary>Items ever put.</summary>
        public long PutCount
        {
            get { lock (_lock) { return _put; } }
        }

        /// <summary>True after <see cref="Close"/>.</summary>
        public bool IsClosed
        {
            get { lock (_lock) { return _closed; } }
        }

        /// <summary>
        /// Stores <paramref name="item"/>, replacing any item not yet taken; never blocks.
        /// </summary>
        /// <returns>The replaced item (so the caller can recycle its buffer), or null.</returns>
        /// <exception cref="ArgumentNullException">item is null.</exception>
        public T Put(T item)
        {
            if (item == null)
            {
                throw new ArgumentNullException("item");
            }
            lock (_lock)
            {
                if (_closed)
                {
                    return item;
                }
                T previous = _item;
                _item = item;
                _put++;
                if (previous != null)
                {
                    _replaced++;
                }
                Monitor.PulseAll(_lock);
                return previous;
            }
        }

        /// <summary>Takes the item if there is one; never blocks.</summary>
        public bool TryTake(out T item)
        {
            return TryTake(out item, 0);
        }

        /// <summary>
        /// Takes the item, waiting up to <paramref name="timeoutMs"/> ms for one
        /// (<see cref="Timeout.Infinite"/> = until one comes or the slot is closed).
        /// </summary>
        /// <returns>False on time-out or when the slot is closed and empty.</returns>
        public bool TryTake(out T item, int timeoutMs)
        {
            lock (_lock)
            {
                if (_item == null && !_closed && timeoutMs != 0)
                {
                    if (timeoutMs == Timeout.Infinite)
                    {
                        while (_item == null && !_closed)
                        {
                            Monitor.Wait(_lock);
                        }
                    }
                    else
                    {
                        int deadline = Environment.TickCount + timeoutMs;
                        int left = timeoutMs;
                        while (_item == null && !_closed && left > 0)
                        {
                            Monitor.Wait(_lock, left);
                            left = deadline - Environment.TickCount;
                        }
                    }
                }
                item = _item;
                _item = null;
                return item != null;
            }
        }

        /// <summary>Wakes every waiter; later puts are refused (returned to the caller).</summary>
        public void Close()
        {
            lock (_lock)
            {
                _closed = true;
                Monitor.PulseAll(_lock);
            }
        }

        /// <summary>Same as <see cref="Close"/>.</summary>
        public void Dispose()
        {
            Close();
        }
    }
}
