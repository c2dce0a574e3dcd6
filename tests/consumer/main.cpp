// Built against an installed braid by the install_and_consume test.
#include <braid/error.hpp>

#include <cstdio>

int main() {
    try {
        throw braid::CancelledError();
    } catch (const braid::CancelledError& e) {
        std::printf("consumer: caught braid::CancelledError: %s\n", e.what());
        return 0;
    }
    return 1;
}
