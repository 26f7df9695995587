/** The dashboard's one stylesheet: system fonts, a readable measure, visible focus, contrast AA. */
export const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;background:#f6f7f9}
a{color:#0b57d0}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #f5a300;outline-offset:2px}
header{background:#12263f;color:#fff}
header .bar{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;max-width:72rem;margin:0 auto;padding:.6rem 1rem}
header a{color:#fff;text-decoration:none;font-weight:600}
header a[aria-current=page]{text-decoration:underline;text-underline-offset:.3em}
header nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
header form{margin-left:auto}
header .who{font-size:.9rem;color:#dfe7f1}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
section.card{background:#fff;border:1px solid #d5dae1;border-radius:8px;padding:1rem;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e7ec;vertical-align:top}
th{font-size:.9rem;color:#3b4450}
.scroll{overflow-x:auto}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.85rem;font-weight:600;background:#e6eaf0;color:#1b1f24}
.badge.synced,.badge.active,.badge.done{background:#d7f2df;color:#0b5423}
.badge.failed,.badge.deleted{background:#fde0dd;color:#8a1c11}
.badge.pending,.badge.running,.badge.held{background:#fff1c7;color:#6b4b00}
.badge.unmatched,.badge.excluded,.badge.deactivated,.badge.disabled,.badge.cancelled{background:#e6eaf0;color:#333b45}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.4rem .9rem;border-radius:6px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:#0b57d0}
button.danger{background:#b3261e;border-color:#b3261e}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}
.actions form{margin:0}
label{font-weight:600;display:block;margin:.25rem 0}#pickup-location form input{width:min(32rem,100%);display:block;margin-bottom:.5rem}
input[type=text],input[type=search],input[type=number],input[type=url],input[type=password],select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #8a94a3;border-radius:6px;max-width:100%;background:#fff;color:#1b1f24}
textarea{width:100%;min-height:3rem}
fieldset{border:1px solid #d5dae1;border-radius:6px;margin:0 0 .75rem;padding:.5rem .75rem}
.row{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}
.field-error,.error{color:#8a1c11;font-weight:600}
.notice{border-left:4px solid #0b57d0;background:#e8f0fe;padding:.5rem .75rem;margin:0 0 1rem}
.notice.bad{border-color:#b3261e;background:#fde0dd}
.notice.warn{border-color:#b58100;background:#fff1c7}
.muted{color:#4d5664}
.empty{color:#4d5664;font-style:italic}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
pre.json{background:#f0f2f5;border:1px solid #d5dae1;border-radius:6px;padding:.5rem;overflow:auto;max-height:20rem;font-size:.85rem}
#try-result>div{flex:1 1 20rem;min-width:0}
ul.plain{list-style:none;padding:0;margin:0}
ul.plain label{font-weight:400}
.badge.retrying{background:#fff1c7;color:#6b4b00}
.badge.ok{background:#d7f2df;color:#0b5423}
.mapping-row{display:grid;grid-template-columns:1fr 1fr 2fr auto auto;gap:.5rem;align-items:end;margin-bottom:.5rem}
@media (max-width:640px){
  .mapping-row{grid-template-columns:1fr}
  header form{margin-left:0}
  dl.facts{grid-template-columns:1fr}
  th,td{padding:.3rem}
}
`;
