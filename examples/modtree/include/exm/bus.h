/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EXM_BUS_H
#define EXM_BUS_H

#include <exm/core.h>

/* Exported into the EXM_BUS namespace (DEFAULT_SYMBOL_NAMESPACE in bus/Kbuild). */
int exm_bus_attach(struct exm_device *dev);
int exm_bus_read(struct exm_device *dev, unsigned int reg);
/* Exported only to the exm_sensor module, when it is one (EXPORT_SYMBOL_GPL_FOR_MODULE_IF). */
int exm_bus_calibrate(struct exm_device *dev, int offset);

#endif
