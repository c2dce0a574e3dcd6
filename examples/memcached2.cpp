// Seed 004's memcached2.py: the same server, now honouring expiry times. Each set with an
// expiry schedules the key's removal with callLater, and a new set of the key cancels the
// removal still pending from the last one.
//     ./memcached2 [port]       (default 11211)
#include "memcached_server.hpp"
#include <braid/reactor.hpp>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

class Memcached {
public:
    explicit Memcached(braid::IReactorTime& clock) : clock_(clock) {}

    const std::string* get(const std::string& key) const {
        auto found = entries_.find(key);
        return found == entries_.end() ? nullptr : &found->second.value;
    }

    void set(const std::string& key, std::string value, long exptime) {
        Entry& entry = entries_[key];
        if (entry.expiry.active()) {
            entry.expiry.cancel();
        }
        entry.value = std::move(value);
        if (exptime > 0) {
            entry.expiry = clock_.callLater(static_cast<double>(exptime),
                                            [this, key] { entries_.erase(key); });
        }
    }

private:
    struct Entry {
        std::string value;
        braid::DelayedCall expiry;
    };

    braid::IReactorTime& clock_;
    std::map<std::string, Entry> entries_;
};

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 11211);
    Memcached store(braid::reactor());
    braid::reactor().listenTCP(
        port, std::make_shared<memcached_tutorial::MemcachedServerFactory<Memcached>>(store));
    braid::reactor().run();
}
