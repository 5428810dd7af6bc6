// The protocol's HTTP endpoint paths and its media type: the one place they
// are spelled, for the daemon's routes, the source's requests to a target,
// mimi-portctl and the benchmarks alike (docs/protocol.md §3, "Endpoints").
// The tests that check the wire on purpose keep their own literals, so that
// a change here shows up as a failing test rather than as a silent change
// of the wire.
//
// Constants only; thread-safe.
#ifndef MIMI_PORTABILITY_ENDPOINTS_H_
#define MIMI_PORTABILITY_ENDPOINTS_H_

namespace mimi::endpoints {

// Client -> target: MigrationRequest -> MigrationResponse.
inline constexpr char kRequestPath[] = "/mimi-portability/v1/request";
// Client -> source: MigrationInitRequest -> MigrationConfirmation (or 202).
inline constexpr char kInitPath[] = "/mimi-portability/v1/init";
// Source -> target: MigrationContent -> TargetMigrationComplete.
inline constexpr char kContentPath[] = "/mimi-portability/v1/content";
// Source -> target: MigrationAbort -> MigrationAbortAck (or 409 TMC).
inline constexpr char kAbortPath[] = "/mimi-portability/v1/abort";
// GET kStatusPathPrefix + <64 hex digits of the nonce>: a migration's status.
inline constexpr char kStatusPathPrefix[] = "/mimi-portability/v1/migrations/";

// Content-Type of every protocol body (the message's own serialization).
inline constexpr char kMediaType[] = "application/mimi-portability";

}  // namespace mimi::endpoints

#endif  // MIMI_PORTABILITY_ENDPOINTS_H_
