/* kvmtest.config._arena: CPython's small-object arenas from one huge-page region.
 *
 * Why: pymalloc takes its arenas (1 MiB on 64-bit) one mmap() at a time, and
 * the kernel backs each with 4 KiB pages, one page fault per page at first
 * touch.  Parsing tp-qemu's qemu/subtests.cfg touches ~20 MB, ~5,000 faults,
 * and a fault costs ~3 us on a VM (bench/README.md): about a tenth of the
 * whole run.  Here the arenas come from one 2 MiB-aligned region marked
 * MADV_HUGEPAGE, so with transparent huge pages ("always" or "madvise") the
 * kernel maps 2 MiB per fault.
 *
 * The region is address space only (MAP_NORESERVE): memory is used when an
 * arena is touched, as before.  Arenas that pymalloc frees are kept on a stack
 * for reuse; past KEEP_FREE of them, a freed arena's memory is given back
 * (MADV_DONTNEED) and its address stays for reuse.  When the region is full,
 * or for any other size, the previous allocator serves, and frees what it
 * served.  Installed once per process (kvmtest/config/arenas.py), never
 * removed: removing would hand the region's arenas to munmap().
 *
 * Built with the compiled build only (setup.py, KVMTEST_MYPYC=1), on Linux.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <sys/mman.h>

#define REGION_SIZE ((size_t)1 << 30)   /* address space: 1 GiB of arenas */
#define HUGE_PAGE ((size_t)2 << 20)
#define MAX_ARENAS 4096                 /* REGION_SIZE / 256 KiB, pymalloc's smallest arena */
#define KEEP_FREE 64                    /* freed arenas kept resident */

static PyObjectArenaAllocator previous;
static char *region, *next_unused, *region_end;
static size_t arena_size;               /* pymalloc's, learnt from the first call */
static void *free_stack[MAX_ARENAS];
static size_t n_free, n_live, n_fallback, n_released;
static int installed;

static void *
arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (arena_size == 0 && size >= REGION_SIZE / MAX_ARENAS)
        arena_size = size;
    if (size == arena_size) {
        if (n_free > 0) {
            n_live++;
            return free_stack[--n_free];
        }
        if ((size_t)(region_end - next_unused) >= size) {
            void *p = next_unused;
            next_unused += size;
            n_live++;
            return p;
        }
    }
    n_fallback++;
    return previous.alloc(previous.ctx, size);
}

static void
arena_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if ((char *)ptr >= region && (char *)ptr < region_end) {
        n_live--;
        if (n_free >= KEEP_FREE) {
            madvise(ptr, size, MADV_DONTNEED);
            n_released++;
        }
        if (n_free < MAX_ARENAS)
            free_stack[n_free++] = ptr;
        return;
    }
    previous.free(previous.ctx, ptr, size);
}

static PyObject *
install(PyObject *self, PyObject *noargs)
{
    (void)self; (void)noargs;
    if (!installed) {
        char *m = mmap(NULL, REGION_SIZE + HUGE_PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            Py_RETURN_FALSE;
        char *aligned = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
        if (madvise(aligned, REGION_SIZE, MADV_HUGEPAGE) != 0) {  /* no THP in this kernel */
            munmap(m, REGION_SIZE + HUGE_PAGE);
            Py_RETURN_FALSE;
        }
        region = next_unused = aligned;
        region_end = aligned + REGION_SIZE;
        PyObjectArenaAllocator ours = {NULL, arena_alloc, arena_free};
        PyObject_GetArenaAllocator(&previous);
        PyObject_SetArenaAllocator(&ours);
        installed = 1;
    }
    Py_RETURN_TRUE;
}

static PyObject *
stats(PyObject *self, PyObject *noargs)
{
    (void)self; (void)noargs;
    return Py_BuildValue("{s:i,s:K,s:K,s:n,s:n,s:n,s:n,s:n,s:n}",
                         "installed", installed,
                         "start", (unsigned long long)(uintptr_t)region,
                         "end", (unsigned long long)(uintptr_t)region_end,
                         "arena_size", (Py_ssize_t)arena_size,
                         "live", (Py_ssize_t)n_live,
                         "free", (Py_ssize_t)n_free,
                         "used", (Py_ssize_t)(next_unused - region),
                         "fallback", (Py_ssize_t)n_fallback,
                         "released", (Py_ssize_t)n_released);
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS,
     "Serve pymalloc's arenas from a huge-page region (once); True if installed."},
    {"stats", stats, METH_NOARGS, "Counters of the region's arenas."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "kvmtest.config._arena",
    "pymalloc arenas from a transparent-huge-page region (see _arena.c)", -1, methods};

PyMODINIT_FUNC
PyInit__arena(void)
{
    return PyModule_Create(&module);
}
