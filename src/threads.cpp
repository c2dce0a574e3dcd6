#include <braid/log.hpp>
#include <braid/threads.hpp>

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace braid {

namespace {

Logger& threadsLog() {
    static Logger log{"braid.threads"};
    return log;
}

void checkSizes(std::size_t minThreads, std::size_t maxThreads) {
    if (minThreads > maxThreads) {
        throw std::invalid_argument(fmt::format(
            "ThreadPool: minThreads ({}) is above maxThreads ({})", minThreads, maxThreads));
    }
}

// "<name>-<number>", shortened at the name's end to the 15 bytes Linux keeps.
void nameThisThread(const std::string& name, unsigned long number) {
    constexpr std::size_t linuxMax = 15;
    std::string suffix = fmt::format("-{}", number);
    std::string full = name.substr(0, linuxMax - std::min(suffix.size(), linuxMax)) + suffix;
    pthread_setname_np(pthread_self(), full.substr(0, linuxMax).c_str());
}

} // namespace

// Everything below is guarded by `mutex`. Each worker's std::thread sits in `threads`
// while it runs; on its way out the worker moves it to `finished` (a list splice, so the
// worker needs no allocation to leave) for stop() or the next spawn to join.
struct ThreadPool::Impl {
    using Threads = std::list<std::thread>;

    Impl(std::size_t minimum, std::size_t maximum, std::string poolName)
        : name(std::move(poolName)), min(minimum), max(maximum) {}

    void work(Threads::iterator self, unsigned long number);
    // Whether the worker should leave instead of waiting (again) for work.
    [[nodiscard]] bool shouldLeave(bool timedOut) const {
        return stopping || workers > max || (timedOut && queue.empty() && workers > min);
    }
    // Starts workers up to min, and more (up to max) while queued work has nobody idle
    // to take it. Returns whether it started any.
    bool grow();
    void spawn();
    // Joins the workers that have left; call without holding the lock.
    void reap();
    [[nodiscard]] bool onWorker() const;

    const std::string name;
    mutable std::mutex mutex;
    std::condition_variable wake;   // workers: work, stop, or new sizes
    std::condition_variable exited; // stop(): a worker left
    std::deque<detail::UniqueFunction<void()>> queue;
    std::size_t min;
    std::size_t max;
    std::chrono::duration<double> idleTimeout{60.0};
    std::size_t workers = 0; // alive
    std::size_t idle = 0;    // waiting for work
    std::size_t working = 0; // running a call
    unsigned long spawned = 0;
    bool started = false;
    bool stopping = false;
    Threads threads;
    Threads finished;
};

void ThreadPool::Impl::work(Threads::iterator self, unsigned long number) {
    nameThisThread(name, number);
    std::unique_lock lock(mutex);
    bool timedOut = false;
    for (;;) {
        if (!queue.empty() && workers <= max) {
            detail::UniqueFunction<void()> call = std::move(queue.front());
            queue.pop_front();
            ++working;
            lock.unlock();
            try {
                call();
            } catch (...) {
                threadsLog().error("Unhandled error in a call of thread pool {pool}: {error}",
                                   fmt::arg("pool", name),
                                   fmt::arg("error", Failure::current().toString()));
            }
            call = nullptr; // its captures die outside the lock too
            lock.lock();
            --working;
            timedOut = false;
            continue;
        }
        if (shouldLeave(timedOut)) {
            break;
        }
        ++idle;
        if (workers > min) {
            timedOut = wake.wait_for(lock, idleTimeout) == std::cv_status::timeout;
        } else {
            wake.wait(lock);
            timedOut = false;
        }
        --idle;
    }
    --workers;
    finished.splice(finished.end(), threads, self);
    exited.notify_all();
}

bool ThreadPool::Impl::grow() {
    if (!started || stopping) {
        return false;
    }
    bool grew = false;
    while (workers < min || (workers < max && queue.size() > idle)) {
        try {
            spawn();
        } catch (const std::system_error& error) {
            // Out of threads: the work waits for a worker that exists or comes later.
            threadsLog().error("Thread pool {pool} cannot start a thread: {error}",
                               fmt::arg("pool", name), fmt::arg("error", error.what()));
            break;
        }
        grew = true;
    }
    return grew;
}

// Under the lock, so that the new worker finds its std::thread in `threads` when it
// first takes the lock.
void ThreadPool::Impl::spawn() {
    auto slot = threads.emplace(threads.end());
    try {
        *slot = std::thread(&Impl::work, this, slot, ++spawned);
    } catch (...) {
        threads.erase(slot);
        throw;
    }
    ++workers;
}

void ThreadPool::Impl::reap() {
    Threads leaving;
    {
        std::lock_guard lock(mutex);
        leaving.swap(finished);
    }
    for (std::thread& thread : leaving) {
        thread.join();
    }
}

bool ThreadPool::Impl::onWorker() const {
    const auto self = std::this_thread::get_id();
    return std::ranges::any_of(
        threads, [self](const std::thread& thread) { return thread.get_id() == self; });
}

ThreadPool::ThreadPool(std::size_t minThreads, std::size_t maxThreads, std::string name) {
    checkSizes(minThreads, maxThreads);
    impl_ = std::make_unique<Impl>(minThreads, maxThreads, std::move(name));
}

ThreadPool::~ThreadPool() {
    stop();
}

void ThreadPool::start() {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->started) {
        impl_->started = true;
        impl_->grow();
    }
}

void ThreadPool::stop() {
    {
        std::unique_lock lock(impl_->mutex);
        if (!impl_->started || impl_->stopping) {
            return;
        }
        if (impl_->onWorker()) {
            throw std::logic_error("ThreadPool::stop() from one of its own workers");
        }
        impl_->stopping = true;
        impl_->wake.notify_all();
        impl_->exited.wait(lock, [this] { return impl_->workers == 0; });
        impl_->stopping = false;
        impl_->started = false;
    }
    impl_->reap();
}

void ThreadPool::callInThread(detail::UniqueFunction<void()> f) {
    bool grew = false;
    {
        std::lock_guard lock(impl_->mutex);
        impl_->queue.push_back(std::move(f));
        if (impl_->idle > 0) {
            impl_->wake.notify_one();
        }
        grew = impl_->grow();
    }
    // Workers that left on an idle timeout are joined when new ones start, so at most
    // maxThreads of them wait to be joined.
    if (grew) {
        impl_->reap();
    }
}

void ThreadPool::adjustPoolsize(std::size_t minThreads, std::size_t maxThreads) {
    checkSizes(minThreads, maxThreads);
    {
        std::lock_guard lock(impl_->mutex);
        impl_->min = minThreads;
        impl_->max = maxThreads;
        impl_->wake.notify_all(); // idle workers re-check whether they are still needed
        impl_->grow();
    }
    impl_->reap();
}

void ThreadPool::setIdleTimeout(double seconds) {
    std::lock_guard lock(impl_->mutex);
    impl_->idleTimeout = std::chrono::duration<double>(seconds);
    impl_->wake.notify_all(); // idle workers wait again, with the new timeout
}

std::size_t ThreadPool::minThreads() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->min;
}

std::size_t ThreadPool::maxThreads() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->max;
}

double ThreadPool::idleTimeout() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->idleTimeout.count();
}

const std::string& ThreadPool::name() const noexcept {
    return impl_->name;
}

bool ThreadPool::started() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->started;
}

std::size_t ThreadPool::workers() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->workers;
}

std::size_t ThreadPool::queued() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->queue.size();
}

std::size_t ThreadPool::working() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->working;
}

} // namespace braid
