// Seed 004's memcached1.py: the memcached tutorial's first store, a map; expiry times are
// ignored. The protocol is in memcached_server.hpp.
//     ./memcached1 [port]       (default 11211)
#include "memcached_server.hpp"
#include <braid/reactor.hpp>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

class Memcached {
public:
    const std::string* get(const std::string& key) const {
        auto found = values_.find(key);
        return found == values_.end() ? nullptr : &found->second;
    }

    void set(const std::string& key, std::string value, long /*exptime*/) {
        values_[key] = std::move(value);
    }

private:
    std::map<std::string, std::string> values_;
};

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 11211);
    Memcached store;
    braid::reactor().listenTCP(
        port, std::make_shared<memcached_tutorial::MemcachedServerFactory<Memcached>>(store));
    braid::reactor().run();
}
