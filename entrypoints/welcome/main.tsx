import { render } from 'preact';
import { WelcomeView } from '../../components/WelcomeView';
import { describeModel } from '../../model/config';
import { PRESETS } from '../../model/presets';
import '../../assets/pages.css';

render(<WelcomeView presets={PRESETS} describeModel={describeModel} />, document.getElementById('app')!);
