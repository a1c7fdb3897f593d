/** Small DOM helpers shared by the two pages: typed lookups and element building without innerHTML. */

import { showJson } from './jwt/show-json.js';

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

type Child = Node | string;

/** `el('li', { class: 'x', 'data-testid': 'y' }, 'text', child)`: attributes are set, children appended as text or nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Pretty JSON for an output panel; never throws (see {@link showJson}). */
export function prettyJson(value: unknown): string {
  return showJson(value, { indent: 2 });
}

/** Sets a pill's text and its ok/warn/bad colour. */
export function setPill(element: HTMLElement, text: string, tone: 'ok' | 'warn' | 'bad' | 'neutral'): void {
  element.textContent = text;
  element.classList.remove('ok', 'warn', 'bad');
  if (tone !== 'neutral') element.classList.add(tone);
}
