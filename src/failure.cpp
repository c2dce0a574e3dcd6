#include <braid/failure.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace braid {

namespace {

std::string demangle(const char* mangled) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> name(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

} // namespace

std::string Failure::getErrorMessage() const {
    if (error_ == nullptr) {
        return "(empty Failure)";
    }
    try {
        std::rethrow_exception(error_);
    } catch (const std::exception& error) {
        return error.what();
    } catch (...) {
        return "exception of type " + typeName();
    }
}

std::string Failure::typeName() const {
    if (error_ == nullptr) {
        return "(none)";
    }
    try {
        std::rethrow_exception(error_);
    } catch (...) {
        // The dynamic type of the thrown object, whatever it is (not only std::exception).
        const std::type_info* type = abi::__cxa_current_exception_type();
        return type != nullptr ? demangle(type->name()) : std::string("(unknown)");
    }
}

std::string Failure::toString() const {
    return typeName() + ": " + getErrorMessage();
}

void Failure::raiseException() const {
    if (error_ == nullptr) {
        throw std::logic_error("raiseException() on an empty Failure");
    }
    std::rethrow_exception(error_);
}

} // namespace braid
