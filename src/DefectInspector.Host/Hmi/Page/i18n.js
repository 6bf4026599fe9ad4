// The page's words in the operator's language: Hmi:Language (en, zh-CN), or with auto the browser's first language
// the page speaks. Codes that travel to MES (verdicts, dispositions, camera states) keep their value; only what they
// show is translated. A missing key shows the English text, so a new string never shows as a key.
'use strict';

const TEXTS = {
  en: {
    'title': 'DefectInspector review station',
    'tab.live': 'Live', 'tab.review': 'Review', 'tab.history': 'History', 'tab.model': 'Model',
    'broker.title': 'MQTT broker', 'broker.unknown': 'broker …', 'broker.on': 'broker connected', 'broker.off': 'broker offline',
    'logout': 'Log out', 'login.title': 'Log in', 'login.user': 'User', 'login.password': 'Password', 'login.submit': 'Log in',
    'login.wrong': 'unknown user or wrong password', 'login.wait': 'too many failed logins; try again in {seconds} s',
    'login.required': 'login required', 'error.status': '{status} {text}',
    'queue.label': 'Parts waiting for review, newest first', 'queue.empty': 'No parts waiting for review.',
    'history.from': 'From', 'history.to': 'To', 'history.camera': 'Camera', 'history.any': 'any', 'history.verdict': 'Verdict',
    'history.disposition': 'Disposition', 'history.search': 'Search',
    'col.decided': 'Decided', 'col.camera': 'Camera', 'col.part': 'Part', 'col.verdict': 'Verdict', 'col.score': 'Score',
    'col.disposition': 'Disposition', 'col.label': 'Label', 'col.by': 'By', 'col.comment': 'Comment', 'col.mes': 'MES',
    'col.when': 'When', 'col.user': 'User', 'col.action': 'Action', 'col.detail': 'Detail', 'col.model': 'Model',
    'model.title': 'Model', 'audit.title': 'Audit trail', 'model.loading': 'the model is still loading',
    'label.confirmed': 'Confirm defect', 'label.false-reject': 'False reject', 'label.rework': 'Rework',
    'camera.image': 'latest frame of {camera}', 'camera.regions': '{count} region(s)',
    'part.heatmap': 'heatmap of part {id}', 'part.comment': 'Comment (optional)',
    'part.region': '#{n} {width}×{height} at ({x}, {y}), score {score}', 'part.none': 'none',
    'part.score': ' score {score} (threshold {threshold})',
    'fact.verdict': 'Verdict', 'fact.class': 'Class', 'fact.probabilities': 'Probabilities', 'fact.regions': 'Regions',
    'fact.camera': 'Camera', 'fact.part': 'Part', 'fact.frame': 'Frame', 'fact.decided': 'Decided', 'fact.model': 'Model',
    'fact.explainer': 'Explainer', 'fact.id': 'Verdict id',
    'toast.recorded': '{label}: recorded, sent to MES',
    'mes.stored': 'stored', 'mes.waiting': 'waiting',
    'eng.name': 'Name', 'eng.sha': 'SHA-256', 'eng.architecture': 'Architecture', 'eng.classes': 'Classes', 'eng.good': 'Good class',
    'eng.decision': 'Decision threshold', 'eng.regions': 'Regions', 'eng.explainer': 'Explainer', 'eng.provenance': 'Provenance',
    'user': '{name} ({role})',
  },
  'zh-CN': {
    'title': 'DefectInspector 复检工作站',
    'tab.live': '实时', 'tab.review': '复检', 'tab.history': '历史', 'tab.model': '模型',
    'broker.title': 'MQTT 代理', 'broker.unknown': '代理 …', 'broker.on': '代理已连接', 'broker.off': '代理离线',
    'logout': '退出登录', 'login.title': '登录', 'login.user': '用户', 'login.password': '密码', 'login.submit': '登录',
    'login.wrong': '用户名或密码错误', 'login.wait': '登录失败次数过多，请 {seconds} 秒后再试',
    'login.required': '需要登录', 'error.status': '{status} {text}',
    'queue.label': '待复检零件，最新在前', 'queue.empty': '没有待复检的零件。',
    'history.from': '从', 'history.to': '至', 'history.camera': '相机', 'history.any': '任意', 'history.verdict': '判定',
    'history.disposition': '处置', 'history.search': '搜索',
    'col.decided': '判定时间', 'col.camera': '相机', 'col.part': '零件', 'col.verdict': '判定', 'col.score': '分数',
    'col.disposition': '处置', 'col.label': '标签', 'col.by': '复检人', 'col.comment': '备注', 'col.mes': 'MES',
    'col.when': '时间', 'col.user': '用户', 'col.action': '操作', 'col.detail': '详情', 'col.model': '模型',
    'model.title': '模型', 'audit.title': '审计记录', 'model.loading': '模型仍在加载',
    'label.confirmed': '确认缺陷', 'label.false-reject': '误判', 'label.rework': '返工',
    'camera.image': '{camera} 的最新图像', 'camera.regions': '{count} 个区域',
    'part.heatmap': '零件 {id} 的热力图', 'part.comment': '备注（可选）',
    'part.region': '#{n} {width}×{height}，位置 ({x}, {y})，分数 {score}', 'part.none': '无',
    'part.score': ' 分数 {score}（阈值 {threshold}）',
    'fact.verdict': '判定', 'fact.class': '类别', 'fact.probabilities': '概率', 'fact.regions': '区域',
    'fact.camera': '相机', 'fact.part': '零件', 'fact.frame': '帧', 'fact.decided': '判定时间', 'fact.model': '模型',
    'fact.explainer': '解释方法', 'fact.id': '判定编号',
    'toast.recorded': '{label}：已记录，已发送至 MES',
    'mes.stored': '已送达', 'mes.waiting': '等待中',
    'eng.name': '名称', 'eng.sha': 'SHA-256', 'eng.architecture': '网络结构', 'eng.classes': '类别', 'eng.good': '合格类别',
    'eng.decision': '判定阈值', 'eng.regions': '区域', 'eng.explainer': '解释方法', 'eng.provenance': '来源',
    'user': '{name}（{role}）',
    'role.operator': '操作员', 'role.engineer': '工程师',
    'verdict.ok': '合格', 'verdict.ng': '不合格', 'verdict.uncertain': '待定', 'verdict.error': '错误',
    'state.online': '在线', 'state.offline': '离线', 'state.degraded': '降级',
    'disposition.confirmed': '确认缺陷', 'disposition.false-reject': '误判', 'disposition.rework': '返工',
  },
};

const LANGUAGES = Object.keys(TEXTS);

// The configured language (the daemon writes it into <html data-language>), else the browser's first one spoken here.
function chooseLanguage() {
  const configured = document.documentElement.dataset.language || 'auto';
  if (LANGUAGES.includes(configured)) return configured;
  for (const wanted of navigator.languages || [navigator.language]) {
    const lower = String(wanted).toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

const language = chooseLanguage();

// The text of key in the page's language, with {name} filled from values.
function t(key, values = {}) {
  const text = TEXTS[language][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values[name] ?? `{${name}}`));
}

// How a code (a verdict, camera state, disposition or role) reads in this language: itself where no word is given.
function code(kind, value) {
  return TEXTS[language][`${kind}.${value}`] ?? value;
}

// Static text: data-i18n sets the text, data-i18n-placeholder/-title/-aria the attributes.
function translatePage() {
  document.documentElement.lang = language;
  document.title = t('title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll('[data-i18n-title]')) node.title = t(node.dataset.i18nTitle);
  for (const node of document.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
  for (const option of document.querySelectorAll('option[data-code]')) option.textContent = code(option.dataset.code, option.value);
}
