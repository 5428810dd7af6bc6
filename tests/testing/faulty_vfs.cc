#include "testing/faulty_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <new>

namespace mimi::testing {
namespace {

struct State {
  std::mutex mu;
  bool armed = false;
  bool failing = false;  // a sticky plan has fired
  bool crashed = false;
  VfsFaultPlan plan;
  VfsStats stats;
};

State& TheState() {
  static State* state = new State();  // never destroyed: SQLite may outlive
  return *state;
}

sqlite3_vfs* g_real = nullptr;

// Our file: the sqlite3_file SQLite sees, followed by the real VFS's file.
struct FaultyFile {
  sqlite3_file base;
  bool counted;  // the database, its WAL or its journal
  sqlite3_file* Real() {
    return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(this) +
                                           RealOffset());
  }
  static size_t RealOffset() {
    constexpr size_t kAlign = alignof(std::max_align_t);
    return (sizeof(FaultyFile) + kAlign - 1) / kAlign * kAlign;
  }
};

FaultyFile* Self(sqlite3_file* f) { return reinterpret_cast<FaultyFile*>(f); }

int ErrorCode(VfsFaultPlan::Error error, int io_code) {
  return error == VfsFaultPlan::Error::kFull ? SQLITE_FULL : io_code;
}

// Under the lock: whether this call of `op` (writing `amount` bytes) fails,
// and how many of its bytes are written first.
bool Fires(State& s, VfsFaultPlan::Op op, int64_t amount, int64_t* prefix) {
  *prefix = 0;
  if (!s.armed || s.plan.op != op) return false;
  const int64_t calls =
      op == VfsFaultPlan::Op::kWrite ? s.stats.writes : s.stats.syncs;
  bool fire = s.failing || calls > s.plan.skip_calls;
  if (!fire && op == VfsFaultPlan::Op::kWrite && s.plan.byte_budget >= 0 &&
      s.stats.bytes + amount > s.plan.byte_budget) {
    fire = true;
    *prefix = s.plan.byte_budget - s.stats.bytes;
  }
  if (!fire) return false;
  if (s.plan.torn_bytes > 0) *prefix = s.plan.torn_bytes;
  *prefix = std::clamp<int64_t>(*prefix, 0, std::max<int64_t>(0, amount - 1));
  ++s.stats.faults;
  if (s.plan.sticky) {
    s.failing = true;
  } else {
    s.armed = false;
  }
  if (s.plan.crash) s.crashed = s.stats.crashed = true;
  return true;
}

int Close(sqlite3_file* f) {
  sqlite3_file* real = Self(f)->Real();
  int rc = real->pMethods != nullptr ? real->pMethods->xClose(real) : SQLITE_OK;
  return rc;
}
int Read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xRead(real, buf, amt, off);
}
int Write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  FaultyFile* self = Self(f);
  sqlite3_file* real = self->Real();
  if (!self->counted) return real->pMethods->xWrite(real, buf, amt, off);
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.crashed) return SQLITE_IOERR_WRITE;
  ++s.stats.writes;
  int64_t prefix = 0;
  if (Fires(s, VfsFaultPlan::Op::kWrite, amt, &prefix)) {
    if (prefix > 0) {
      (void)real->pMethods->xWrite(real, buf, static_cast<int>(prefix), off);
      s.stats.bytes += prefix;
    }
    return ErrorCode(s.plan.error, SQLITE_IOERR_WRITE);
  }
  s.stats.bytes += amt;
  return real->pMethods->xWrite(real, buf, amt, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  FaultyFile* self = Self(f);
  sqlite3_file* real = self->Real();
  if (self->counted) {
    State& s = TheState();
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.crashed) return SQLITE_IOERR_TRUNCATE;
  }
  return real->pMethods->xTruncate(real, size);
}
int Sync(sqlite3_file* f, int flags) {
  FaultyFile* self = Self(f);
  sqlite3_file* real = self->Real();
  if (!self->counted) return real->pMethods->xSync(real, flags);
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.crashed) return SQLITE_IOERR_FSYNC;
  ++s.stats.syncs;
  int64_t prefix = 0;
  if (Fires(s, VfsFaultPlan::Op::kSync, 0, &prefix)) {
    return ErrorCode(s.plan.error, SQLITE_IOERR_FSYNC);
  }
  return real->pMethods->xSync(real, flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xFileSize(real, size);
}
int Lock(sqlite3_file* f, int level) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xLock(real, level);
}
int Unlock(sqlite3_file* f, int level) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xUnlock(real, level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xCheckReservedLock(real, out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xFileControl(real, op, arg);
}
int SectorSize(sqlite3_file* f) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xSectorSize(real);
}
int DeviceCharacteristics(sqlite3_file* f) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xDeviceCharacteristics(real);
}
int ShmMap(sqlite3_file* f, int page, int size, int extend,
           void volatile** out) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xShmMap(real, page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xShmLock(real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) {
  sqlite3_file* real = Self(f)->Real();
  real->pMethods->xShmBarrier(real);
}
int ShmUnmap(sqlite3_file* f, int del) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xShmUnmap(real, del);
}
int Fetch(sqlite3_file* f, sqlite3_int64 off, int amt, void** out) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xFetch(real, off, amt, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  sqlite3_file* real = Self(f)->Real();
  return real->pMethods->xUnfetch(real, off, p);
}

const sqlite3_io_methods kMethods = {
    3,         Close,   Read,       Write,    Truncate,
    Sync,      FileSize, Lock,      Unlock,   CheckReservedLock,
    FileControl, SectorSize, DeviceCharacteristics, ShmMap, ShmLock,
    ShmBarrier, ShmUnmap, Fetch,    Unfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags,
         int* out_flags) {
  FaultyFile* self = Self(f);
  self->base.pMethods = nullptr;
  self->counted = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
                            SQLITE_OPEN_MAIN_JOURNAL)) != 0;
  sqlite3_file* real = self->Real();
  int rc = g_real->xOpen(g_real, name, real, flags, out_flags);
  // SQLite calls xClose only when pMethods is set.
  if (real->pMethods != nullptr) self->base.pMethods = &kMethods;
  return rc;
}
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  {
    State& s = TheState();
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.crashed) return SQLITE_IOERR_DELETE;
  }
  return g_real->xDelete(g_real, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) {
  return g_real->xDlOpen(g_real, name);
}
void DlError(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_real->xDlSym(g_real, h, sym);
}
void DlClose(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int Randomness(sqlite3_vfs*, int n, char* out) {
  return g_real->xRandomness(g_real, n, out);
}
int Sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int CurrentTime(sqlite3_vfs*, double* out) {
  return g_real->xCurrentTime(g_real, out);
}
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError(g_real, n, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}

}  // namespace

Status FaultyVfs::Register() {
  static const int rc = [] {
    g_real = sqlite3_vfs_find(nullptr);
    if (g_real == nullptr || g_real->iVersion < 2) return SQLITE_ERROR;
    static sqlite3_vfs vfs = {};
    vfs.iVersion = 2;
    vfs.szOsFile =
        static_cast<int>(FaultyFile::RealOffset()) + g_real->szOsFile;
    vfs.mxPathname = g_real->mxPathname;
    vfs.zName = kFaultyVfs;
    vfs.xOpen = Open;
    vfs.xDelete = Delete;
    vfs.xAccess = Access;
    vfs.xFullPathname = FullPathname;
    vfs.xDlOpen = DlOpen;
    vfs.xDlError = DlError;
    vfs.xDlSym = DlSym;
    vfs.xDlClose = DlClose;
    vfs.xRandomness = Randomness;
    vfs.xSleep = Sleep;
    vfs.xCurrentTime = CurrentTime;
    vfs.xGetLastError = GetLastError;
    vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    return sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  }();
  if (rc != SQLITE_OK) {
    return InternalError("cannot register the " + std::string(kFaultyVfs) +
                         " SQLite VFS: " + sqlite3_errstr(rc));
  }
  return Status::Ok();
}

void FaultyVfs::Arm(const VfsFaultPlan& plan) {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.plan = plan;
  s.armed = true;
  s.failing = false;
  s.crashed = false;
  s.stats = {};
}

void FaultyVfs::Disarm() {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.armed = false;
  s.failing = false;
  s.crashed = false;
  s.stats = {};
}

VfsStats FaultyVfs::Stats() {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.stats;
}

}  // namespace mimi::testing
