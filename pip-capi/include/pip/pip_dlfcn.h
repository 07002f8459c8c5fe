/*
 * pip_dlfcn.h: PiP's locked dl* functions (pip_dlopen, pip_dlsym, ...), as in PiP. They are
 * declared in pip.h, which this header includes.
 */
#ifndef PIP_PIP_DLFCN_H
#define PIP_PIP_DLFCN_H

#include <pip/pip.h>

#endif /* PIP_PIP_DLFCN_H */
