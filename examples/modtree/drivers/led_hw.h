/* SPDX-License-Identifier: GPL-2.0 */
/* Included by exm_led only. */
#ifndef EXM_LED_HW_H
#define EXM_LED_HW_H

#define EXM_LED_COUNT 4
#define EXM_LED_DEFAULT_LEVEL 128

#endif
