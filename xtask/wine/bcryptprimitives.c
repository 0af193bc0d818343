/* For the Windows tests run under Wine (cargo xtask test): Rust's standard library takes its
 * random bytes from ProcessPrng in bcryptprimitives.dll, which Wine 8 (Debian 12) does not
 * have yet. This stand-in asks RtlGenRandom (advapi32's SystemFunction036), which Wine has.
 * It is built with mingw-w64 into the Wine prefix the tests use; it is not part of Balai. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
