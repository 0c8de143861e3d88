/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _EXM_EXPORT_H
#define _EXM_EXPORT_H
#include <linux/export.h>
#include <linux/kconfig.h>

/*
 * EXPORT_SYMBOL_GPL_FOR_MODULE_IF(sym, "mod", CONFIG_MOD): export `sym` to the module `mod` only,
 * and only when the configuration builds `mod` as a module. Built in or not built, nothing is
 * exported: no export that nobody can use (the config-symbol variant asked for in the
 * "module specific symbol namespace" RFC). C code sees the tree's own config symbols through the
 * -D flags the Kbuild file derives from them (CONFIG_MOD_MODULE=1 for =m, as autoconf.h would).
 */
#define __EXM_EXPORT_IF(built_as_module, sym, mod) ___EXM_EXPORT_IF(built_as_module, sym, mod)
#define ___EXM_EXPORT_IF(built_as_module, sym, mod) __EXM_EXPORT_IF_##built_as_module(sym, mod)
#define __EXM_EXPORT_IF_1(sym, mod) EXPORT_SYMBOL_GPL_FOR_MODULES(sym, mod)
#define __EXM_EXPORT_IF_0(sym, mod)
#define EXPORT_SYMBOL_GPL_FOR_MODULE_IF(sym, mod, cfg) __EXM_EXPORT_IF(IS_MODULE(cfg), sym, mod)

#endif
