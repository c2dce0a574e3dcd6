#include <braid/factory.hpp>

namespace braid {

void Factory::doStart() {
    if (numPorts_ == 0) {
        startFactory();
    }
    ++numPorts_; // after startFactory(): if it throws, the factory did not start
}

void Factory::doStop() {
    if (numPorts_ == 0) {
        return; // more stops than starts: tolerated, as Twisted does
    }
    if (--numPorts_ == 0) {
        stopFactory();
    }
}

} // namespace braid
