// The shell every status page shares: one stylesheet and one small script, both inline and
// allowed by hash in the Content-Security-Policy (nothing else may run or load), a refresh that
// keeps the reader's scroll position, and times in the reader's zone with UTC on hover.

import { createHash } from 'node:crypto';
import { Html, html } from './html.js';

/** The page reloads itself this often (without JavaScript: a meta refresh). */
export const REFRESH_SECONDS = 60;

const STYLE = `
:root{--ok:#17692b;--warn:#8a5a00;--crit:#b00020;--muted:#5b6470;--line:#d8dde3;--bg:#fff;--head:#f3f5f7}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:.8rem 1rem 3rem;color:#1c2127;background:var(--bg)}
@media (min-width:1600px){body{font-size:18px;padding:1rem 2rem}}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.6em 0 .4em;border-bottom:2px solid var(--line);padding-bottom:.2em}
h3{font-size:1em;margin:1.1em 0 .3em}
a{color:#0b57a4}
.summary{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;margin:.4em 0}
.summary b{font-size:1.25em}
.muted,small{color:var(--muted)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;margin:.3em 0}
th,td{padding:.3em .6em;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
th{background:var(--head);font-weight:600;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:var(--ok)}.warn{color:var(--warn);font-weight:600}.crit,.bad{color:var(--crit);font-weight:700}
.badge{display:inline-block;padding:0 .45em;border-radius:.3em;font-size:.85em;font-weight:700;border:1px solid currentColor}
.policy{border:1px solid var(--line);border-left:6px solid var(--ok);border-radius:.3em;padding:.3em .8em .6em;margin:.8em 0}
.policy.divergent{border-left-color:var(--crit)}
.ca{white-space:nowrap}
code,.mono{font-family:ui-monospace,Consolas,monospace;font-size:.9em;word-break:break-all}
form.filter{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:end;background:var(--head);padding:.5em .8em;border-radius:.3em}
form.filter label{display:flex;flex-direction:column;font-size:.85em}
select,button{font:inherit;padding:.2em .4em}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.3em 0}
dl.fields dt{color:var(--muted)}dl.fields dd{margin:0;word-break:break-word}
ol.chain>li{margin:.6em 0;border-top:1px solid var(--line);padding-top:.4em}
@media (min-width:701px){table.fleet{table-layout:fixed}
table.fleet th:nth-child(1){width:15%}table.fleet th:nth-child(2){width:14%}table.fleet th:nth-child(3){width:14%}
table.fleet th:nth-child(4){width:25%}table.fleet th:nth-child(5){width:9%}table.fleet th:nth-child(6){width:13%}table.fleet th:nth-child(7){width:10%}}
.banner{background:#fff4e5;border:1px solid var(--warn);padding:.4em .8em;border-radius:.3em}
@media (max-width:700px){th,td{padding:.25em .35em}.hide-narrow{display:none}.ca{white-space:normal}
table.cards thead{display:none}table.cards tr{display:block;border-bottom:1px solid var(--line);padding:.3em 0}
table.cards td{display:block;border:0;padding:.1em .3em;text-align:left}
table.cards td.hide-narrow{display:none}table.fleet.cards td:nth-child(-n+2){display:inline-block}
table.cards td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);font-weight:400}}
`;

const SCRIPT = `(function(){
var times=document.querySelectorAll('time[datetime]');
for(var i=0;i<times.length;i++){var t=times[i],d=new Date(t.getAttribute('datetime'));
if(!isNaN(d.getTime()))t.textContent=d.toLocaleString();}
var key='chainwatch-scroll:'+location.pathname+location.search;
if('scrollRestoration' in history)history.scrollRestoration='manual';
var y=sessionStorage.getItem(key);
if(y!==null){sessionStorage.removeItem(key);window.scrollTo(0,Number(y));}
var every=Number(document.body.getAttribute('data-refresh'));
if(every>0)setTimeout(function(){sessionStorage.setItem(key,String(window.scrollY));location.reload();},every*1000);
})();`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** Security headers for a status page: only our own stylesheet and script, never in a frame. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    `script-src ${hash(SCRIPT)}`,
    `style-src ${hash(STYLE)}`,
    // The empty data: icon keeps browsers from asking for /favicon.ico.
    'img-src data:',
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export function layout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS}"></noscript>
<style>${new Html(STYLE)}</style>
</head><body data-refresh="${REFRESH_SECONDS}">
${body}
<script>${new Html(SCRIPT)}</script>
</body></html>
`.text;
}

/** A UTC time people read in their own zone (with JavaScript), UTC in the tooltip. */
export function time(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">never</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${iso}`;
  const utc = `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return html`<time datetime="${d.toISOString()}" title="${utc}">${utc}</time>`;
}
