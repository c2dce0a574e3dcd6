// ReactorPool: reactors 1..N-1 run on their own threads, reactor 0 on run()'s caller.
#include <braid/error.hpp>
#include <braid/reactor_pool.hpp>

#include <stdexcept>

namespace braid {

ReactorPool::ReactorPool(Options options) {
    if (options.reactors == 0) {
        throw std::invalid_argument("ReactorPool: at least one reactor");
    }
    for (std::size_t i = 0; i < options.reactors; ++i) {
        // Only one reactor may own SIGINT/SIGTERM: the one on the caller's thread.
        reactors_.push_back(std::make_unique<Reactor>(
            Reactor::Options{.backend = options.backend,
                             .installSignalHandlers = i == 0 && options.installSignalHandlers}));
    }
}

ReactorPool::~ReactorPool() {
    if (!threads_.empty()) {
        stop();
        join();
    }
}

std::uint16_t ReactorPool::listenTCP(std::uint16_t port, const FactoryMaker& makeFactory,
                                     int backlog, std::string_view interface) {
    for (std::size_t i = 0; i < reactors_.size(); ++i) {
        auto listening = reactors_[i]->listenTCPReusePort(port, makeFactory(i), backlog, interface);
        // Port 0 picks a free port once; the other reactors join it there.
        port = listening->getHost().port();
    }
    return port;
}

void ReactorPool::run() {
    // Checked here: a reactor thread's run() throwing would end the process.
    if (ran_) {
        throw ReactorNotRestartable();
    }
    ran_ = true;
    for (std::size_t i = 1; i < reactors_.size(); ++i) {
        threads_.emplace_back([this, i] {
            reactors_[i]->run();
            stop(); // one stopping stops all
        });
    }
    reactors_[0]->run();
    stop();
    join();
}

void ReactorPool::stop() {
    for (std::size_t i = 0; i < reactors_.size(); ++i) {
        callInReactor(i, [&reactor = *reactors_[i]] {
            if (reactor.running()) {
                reactor.stop();
            }
        });
    }
}

void ReactorPool::callInReactor(std::size_t i, detail::UniqueFunction<void()> f) {
    reactors_.at(i)->callFromThread(std::move(f));
}

void ReactorPool::join() {
    for (auto& thread : threads_) {
        thread.join();
    }
    threads_.clear();
}

} // namespace braid
